/* The operating-system services of `ilheap collect` (process.h): POSIX and
 * Windows halves. */
#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef _WIN32
#include <direct.h>
#include <io.h>
#include <process.h>
#include <windows.h>
#else
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#endif

bool proc_list_files(const char *dir, const char *prefix, void (*visit)(const char *path, const char *name, void *ctx),
                     void *ctx)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return false;
    size_t plen = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        if (strncmp(e->d_name, prefix, plen) != 0 ||
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            visit(path, e->d_name, ctx);
    }
    closedir(d);
    return true;
}

#ifdef _WIN32

bool proc_self_path(char *buf, size_t size)
{
    DWORD n = GetModuleFileNameA(NULL, buf, size > 0xFFFFFFFFu ? 0xFFFFFFFFu : (DWORD)size);
    return n != 0 && n < size;
}

bool proc_make_dir(const char *dir)
{
    return _mkdir(dir) == 0 || errno == EEXIST;
}

bool proc_remove_dir(const char *dir)
{
    return _rmdir(dir) == 0;
}

bool proc_make_temp_dir(const char *prefix, char *buf, size_t size)
{
    char tmp[MAX_PATH + 1];
    DWORD n = GetTempPathA(sizeof tmp, tmp);
    if (n == 0 || n >= sizeof tmp) {
        errno = ENOENT;
        return false;
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        if (snprintf(buf, size, "%s%s.%08lx%02x", tmp, prefix, (unsigned long)GetTickCount(), attempt) >= (int)size) {
            errno = ENAMETOOLONG;
            return false;
        }
        if (_mkdir(buf) == 0)
            return true;
        if (errno != EEXIST)
            return false;
    }
    return false;
}

bool proc_setenv(const char *name, const char *value)
{
    return _putenv_s(name, value) == 0;
}

bool proc_alive(unsigned long pid)
{
    HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);
    if (h == NULL)
        return false;
    bool alive = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
    CloseHandle(h);
    return alive;
}

void proc_sleep_ms(unsigned ms)
{
    Sleep(ms);
}

/* The C runtime joins argv with spaces: an argument with a space, a tab or a
 * quote is quoted here (backslashes before a quote doubled, as CommandLineToArgvW reads them). */
static char *quote_arg(const char *arg)
{
    if (arg[0] != '\0' && strpbrk(arg, " \t\"") == NULL)
        return _strdup(arg);
    size_t n = strlen(arg);
    char *q = malloc(2 * n + 3), *o = q;
    if (q == NULL)
        return NULL;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        size_t slashes = 0;
        while (i < n && arg[i] == '\\') {
            slashes++;
            i++;
        }
        size_t times = i == n || arg[i] == '"' ? 2 * slashes : slashes;
        for (size_t k = 0; k < times; k++)
            *o++ = '\\';
        if (i == n)
            break;
        if (arg[i] == '"')
            *o++ = '\\';
        *o++ = arg[i];
    }
    *o++ = '"';
    *o = '\0';
    return q;
}

int proc_run(char *const argv[], char *why, size_t why_size)
{
    size_t n = 0;
    while (argv[n] != NULL)
        n++;
    char **quoted = calloc(n + 1, sizeof *quoted);
    int rc = -1;
    bool ok = quoted != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = (quoted[i] = quote_arg(argv[i])) != NULL;
    if (ok) {
        intptr_t r = _spawnvp(_P_WAIT, argv[0], (const char *const *)quoted);
        if (r == -1) {
            snprintf(why, why_size, "%s", strerror(errno));
            rc = errno == ENOENT ? 127 : 126;
        } else {
            rc = (int)r;
        }
    }
    for (size_t i = 0; quoted != NULL && i < n; i++)
        free(quoted[i]);
    free(quoted);
    return rc;
}

#else

bool proc_self_path(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size);
    if (n <= 0 || (size_t)n >= size)
        return false;
    buf[n] = '\0';
    return true;
}

bool proc_make_dir(const char *dir)
{
    return mkdir(dir, 0700) == 0 || errno == EEXIST;
}

bool proc_remove_dir(const char *dir)
{
    return rmdir(dir) == 0;
}

bool proc_make_temp_dir(const char *prefix, char *buf, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    if (snprintf(buf, size, "%s/%s.XXXXXX", tmp, prefix) >= (int)size) {
        errno = ENAMETOOLONG;
        return false;
    }
    return mkdtemp(buf) != NULL;
}

bool proc_setenv(const char *name, const char *value)
{
    return setenv(name, value, 1) == 0;
}

bool proc_alive(unsigned long pid)
{
    if (pid == 0 || pid > 0x7FFFFFFFul || (kill((pid_t)pid, 0) != 0 && errno != EPERM))
        return false;
#ifdef __linux__
    /* a zombie (exited, not yet reaped by its parent) has written all it will */
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%lu/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    if (paren != NULL && paren[1] == ' ' && paren[2] == 'Z')
        return false;
#endif
    return true;
}

void proc_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int proc_run(char *const argv[], char *why, size_t why_size)
{
    /* The child reports a failed exec through a close-on-exec pipe. */
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    struct sigaction ignore = {.sa_handler = SIG_IGN}, old_int, old_quit;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGINT, &ignore, &old_int);
    sigaction(SIGQUIT, &ignore, &old_quit);
    pid_t pid = fork();
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        close(fds[0]);
        (void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
        execvp(argv[0], argv);
        int err = errno;
        (void)!write(fds[1], &err, sizeof err);
        _exit(127);
    }
    close(fds[1]);
    int rc = -1, err = 0, status = 0;
    if (pid > 0) {
        ssize_t got = read(fds[0], &err, sizeof err);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (got == (ssize_t)sizeof err) {
            snprintf(why, why_size, "%s", strerror(err));
            rc = err == ENOENT ? 127 : 126;
        } else {
            rc = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
        }
    }
    close(fds[0]);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    return rc;
}

#endif
