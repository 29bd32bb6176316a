/* Files, shared mappings and processes (os.h) on Linux. */
#include "os/fault.h"
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static ilheap_os_result_t fail_with(int *os_error, int error)
{
    if (os_error != NULL)
        *os_error = error;
    return error == ENOSPC || error == EDQUOT || error == ENOMEM ? ILHEAP_OS_NOMEM : ILHEAP_OS_FAILED;
}

static ilheap_os_result_t ok(int *os_error)
{
    if (os_error != NULL)
        *os_error = 0;
    return ILHEAP_OS_OK;
}

ilheap_os_result_t ilheap__os_file_create_temp(const char *path, char *tmp, size_t tmp_cap, ilheap_os_file_t *file,
                                               int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    *file = ILHEAP_OS_NO_FILE;
    int n = snprintf(tmp, tmp_cap, "%s.tmp-XXXXXX", path);
    if (n < 0 || (size_t)n >= tmp_cap)
        return fail_with(os_error, ENAMETOOLONG);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return fail_with(os_error, errno);
    /* mkostemp makes it 0600; a counts file is read by other users' tools
     * as any file the process writes would be (umask applies). */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return fail_with(os_error, e);
    }
    *file = fd;
    return ok(os_error);
}

ilheap_os_result_t ilheap__os_file_rename(const char *from, const char *to, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    return rename(from, to) == 0 ? ok(os_error) : fail_with(os_error, errno);
}

ilheap_os_result_t ilheap__os_file_remove(const char *path, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    return unlink(path) == 0 ? ok(os_error) : fail_with(os_error, errno);
}

ilheap_os_result_t ilheap__os_file_open_read(const char *path, ilheap_os_file_t *file, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail_with(os_error, errno);
    *file = fd;
    return ok(os_error);
}

ilheap_os_result_t ilheap__os_file_size(ilheap_os_file_t file, uint64_t *size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    struct stat st;
    if (fstat((int)file, &st) != 0)
        return fail_with(os_error, errno);
    if (S_ISDIR(st.st_mode))
        return fail_with(os_error, EISDIR);
    if (!S_ISREG(st.st_mode))
        return fail_with(os_error, EINVAL);
    *size = (uint64_t)st.st_size;
    return ok(os_error);
}

ilheap_os_result_t ilheap__os_file_extend(ilheap_os_file_t file, uint64_t offset, uint64_t size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    if (offset > (uint64_t)INT64_MAX || size > (uint64_t)INT64_MAX - offset)
        return fail_with(os_error, EFBIG);
    int e;
    do
        e = posix_fallocate((int)file, (off_t)offset, (off_t)size);
    while (e == EINTR);
    return e == 0 ? ok(os_error) : fail_with(os_error, e);
}

ilheap_os_result_t ilheap__os_file_write(ilheap_os_file_t file, uint64_t offset, const void *data, size_t size,
                                         int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    const char *p = data;
    while (size != 0) {
        if (offset > (uint64_t)INT64_MAX)
            return fail_with(os_error, EFBIG);
        ssize_t n = pwrite((int)file, p, size, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail_with(os_error, n < 0 ? errno : EIO);
        p += n;
        size -= (size_t)n;
        offset += (uint64_t)n;
    }
    return ok(os_error);
}

ilheap_os_result_t ilheap__os_file_map(ilheap_os_file_t file, uint64_t offset, size_t size, int writable, void **addr,
                                       int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    if (offset > (uint64_t)INT64_MAX)
        return fail_with(os_error, EINVAL);
    void *p = mmap(NULL, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, (int)file, (off_t)offset);
    if (p == MAP_FAILED)
        return fail_with(os_error, errno);
    *addr = p;
    return ok(os_error);
}

ilheap_os_result_t ilheap__os_file_unmap(void *addr, size_t size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    return munmap(addr, size) == 0 ? ok(os_error) : fail_with(os_error, errno);
}

ilheap_os_result_t ilheap__os_file_sync(void *addr, size_t size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    return msync(addr, size, MS_SYNC) == 0 ? ok(os_error) : fail_with(os_error, errno);
}

void ilheap__os_file_close(ilheap_os_file_t file)
{
    if (file != ILHEAP_OS_NO_FILE)
        close((int)file);
}

/* ------------------------------------------------------------- processes */

/* Reads a small file whole (NUL-terminated); the bytes read, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t got = read(fd, buf + n, cap - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    buf[n] = 0;
    return (ssize_t)n;
}

/* /proc/PID/stat: the state letter (field 3) and the start time in clock
 * ticks since boot (field 22). The name (field 2) may hold spaces and
 * parentheses: fields are counted after its last ')'. 0, or -1. */
static int read_stat(uint64_t pid, char *state, uint64_t *start)
{
    char path[64], buf[1024];
    if (pid == 0)
        snprintf(path, sizeof path, "/proc/self/stat");
    else
        snprintf(path, sizeof path, "/proc/%llu/stat", (unsigned long long)pid);
    if (read_small(path, buf, sizeof buf) <= 0)
        return -1;
    const char *p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ')
        return -1;
    p += 2;
    *state = *p;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ');
        if (p == NULL)
            return -1;
        p++;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno != 0 || end == p)
        return -1;
    *start = v;
    return 0;
}

/* The boot id ("xxxxxxxx-xxxx-..."), as 16 bytes; zero when unreadable. */
static void read_boot_id(uint8_t out[16])
{
    char buf[64];
    memset(out, 0, 16);
    if (read_small("/proc/sys/kernel/random/boot_id", buf, sizeof buf) < 36)
        return;
    size_t n = 0;
    for (const char *p = buf; *p && n < 32; p++) {
        int v = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (v < 0)
            continue;
        out[n / 2] = (uint8_t)(out[n / 2] << 4 | v);
        n++;
    }
}

ilheap_os_result_t ilheap__os_process_self(ilheap_os_process_t *self, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_PROCESS, os_error);
    char state;
    memset(self, 0, sizeof *self);
    self->pid = (uint64_t)getpid();
    if (read_stat(0, &state, &self->start) != 0)
        return fail_with(os_error, errno != 0 ? errno : EIO);
    read_boot_id(self->boot);
    return ok(os_error);
}

ilheap_os_result_t ilheap__os_process_running(const ilheap_os_process_t *p, int *running, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_PROCESS, os_error);
    static const uint8_t zero[16];
    uint8_t boot[16];
    read_boot_id(boot);
    *running = 0;
    if (memcmp(p->boot, zero, 16) != 0 && memcmp(boot, zero, 16) != 0 && memcmp(p->boot, boot, 16) != 0)
        return ok(os_error); /* counted before this boot */
    if (p->pid == 0 || p->pid > (uint64_t)INT32_MAX || (kill((pid_t)p->pid, 0) != 0 && errno == ESRCH))
        return ok(os_error);
    char state;
    uint64_t start;
    if (read_stat(p->pid, &state, &start) != 0) {
        if (access("/proc/self/stat", R_OK) != 0)
            return fail_with(os_error, errno); /* no /proc: cannot tell */
        return ok(os_error);                   /* it ended meanwhile */
    }
    /* A zombie has ended; only its parent has not reaped it yet. */
    *running = start == p->start && state != 'Z' && state != 'X';
    return ok(os_error);
}

/* ------------------------------------------------------------------ rest */

uint64_t ilheap__os_time_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int ilheap__os_error_is_missing(int os_error)
{
    return os_error == ENOENT || os_error == ENOTDIR;
}

const char *ilheap__os_error_text(int os_error, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    /* The GNU strerror_r returns its text (maybe not in buf). */
    const char *text = strerror_r(os_error, buf, cap);
    if (text != buf)
        snprintf(buf, cap, "%s", text);
    return buf;
}
