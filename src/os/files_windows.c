/* Files, shared mappings and processes (os.h) on Windows.
 *
 * A file is opened with FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
 * so that readers can open it while it is written and a newer file can be
 * renamed over it. A mapping is a view of a file-mapping object made for it
 * (the view keeps the object alive). */
#include "os/fault.h"
#include "os/os.h"

#include <stdio.h>
#include <string.h>
#include <windows.h>

#ifndef ERROR_DIRECTORY_NOT_SUPPORTED /* not in every mingw-w64's winerror.h */
#define ERROR_DIRECTORY_NOT_SUPPORTED 336L
#endif

static ilheap_os_result_t fail_with(int *os_error, DWORD error)
{
    if (os_error != NULL)
        *os_error = (int)error;
    return error == ERROR_DISK_FULL || error == ERROR_HANDLE_DISK_FULL || error == ERROR_NOT_ENOUGH_MEMORY ||
                   error == ERROR_NOT_ENOUGH_QUOTA
               ? ILHEAP_OS_NOMEM
               : ILHEAP_OS_FAILED;
}

static ilheap_os_result_t ok(int *os_error)
{
    if (os_error != NULL)
        *os_error = 0;
    return ILHEAP_OS_OK;
}

/* UTF-8 to a malloc'd UTF-16 string; NULL (GetLastError set) on failure. */
static wchar_t *wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0)
        return NULL;
    wchar_t *w = HeapAlloc(GetProcessHeap(), 0, (size_t)n * sizeof *w);
    if (w == NULL) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        HeapFree(GetProcessHeap(), 0, w);
        return NULL;
    }
    return w;
}

static void wide_free(wchar_t *w)
{
    if (w != NULL)
        HeapFree(GetProcessHeap(), 0, w);
}

/* Opens or creates path; INVALID_HANDLE_VALUE with GetLastError on failure. */
static HANDLE open_path(const char *path, DWORD access, DWORD disposition)
{
    wchar_t *w = wide(path);
    if (w == NULL)
        return INVALID_HANDLE_VALUE;
    HANDLE h = CreateFileW(w, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, disposition,
                           FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD e = GetLastError();
    wide_free(w);
    SetLastError(e);
    return h;
}

ilheap_os_result_t ilheap__os_file_create_temp(const char *path, char *tmp, size_t tmp_cap, ilheap_os_file_t *file,
                                               int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    *file = ILHEAP_OS_NO_FILE;
    static volatile LONG serial;
    for (int attempt = 0; attempt < 100; attempt++) {
        int n = snprintf(tmp, tmp_cap, "%s.tmp-%lu-%ld", path, (unsigned long)GetCurrentProcessId(),
                         (long)InterlockedIncrement(&serial));
        if (n < 0 || (size_t)n >= tmp_cap)
            return fail_with(os_error, ERROR_FILENAME_EXCED_RANGE);
        HANDLE h = open_path(tmp, GENERIC_READ | GENERIC_WRITE, CREATE_NEW);
        if (h != INVALID_HANDLE_VALUE) {
            *file = (ilheap_os_file_t)h;
            return ok(os_error);
        }
        if (GetLastError() != ERROR_FILE_EXISTS)
            return fail_with(os_error, GetLastError());
    }
    return fail_with(os_error, ERROR_FILE_EXISTS);
}

ilheap_os_result_t ilheap__os_file_rename(const char *from, const char *to, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    wchar_t *a = wide(from), *b = a != NULL ? wide(to) : NULL;
    BOOL done = b != NULL && MoveFileExW(a, b, MOVEFILE_REPLACE_EXISTING);
    DWORD e = GetLastError();
    wide_free(a);
    wide_free(b);
    return done ? ok(os_error) : fail_with(os_error, e);
}

ilheap_os_result_t ilheap__os_file_remove(const char *path, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    wchar_t *w = wide(path);
    BOOL done = w != NULL && DeleteFileW(w);
    DWORD e = GetLastError();
    wide_free(w);
    return done ? ok(os_error) : fail_with(os_error, e);
}

/* 1 when path names a directory (which CreateFileW refuses as "access denied"). */
static int is_directory(const char *path)
{
    wchar_t *w = wide(path);
    DWORD attributes = w != NULL ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
    wide_free(w);
    return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

ilheap_os_result_t ilheap__os_file_open_read(const char *path, ilheap_os_file_t *file, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    HANDLE h = open_path(path, GENERIC_READ, OPEN_EXISTING);
    if (h == INVALID_HANDLE_VALUE && GetLastError() == ERROR_ACCESS_DENIED && is_directory(path))
        return fail_with(os_error, ERROR_DIRECTORY_NOT_SUPPORTED);
    if (h == INVALID_HANDLE_VALUE)
        return fail_with(os_error, GetLastError());
    *file = (ilheap_os_file_t)h;
    return ok(os_error);
}

ilheap_os_result_t ilheap__os_file_size(ilheap_os_file_t file, uint64_t *size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    if (GetFileType((HANDLE)file) != FILE_TYPE_DISK)
        return fail_with(os_error, ERROR_INVALID_FUNCTION);
    LARGE_INTEGER n;
    if (!GetFileSizeEx((HANDLE)file, &n))
        return fail_with(os_error, GetLastError());
    *size = (uint64_t)n.QuadPart;
    return ok(os_error);
}

ilheap_os_result_t ilheap__os_file_extend(ilheap_os_file_t file, uint64_t offset, uint64_t size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    if (offset > (uint64_t)INT64_MAX || size > (uint64_t)INT64_MAX - offset)
        return fail_with(os_error, ERROR_INVALID_PARAMETER);
    size += offset;
    /* NTFS allocates the clusters of a non-sparse file when its end moves. */
    LARGE_INTEGER n;
    n.QuadPart = (LONGLONG)size;
    if (!SetFilePointerEx((HANDLE)file, n, NULL, FILE_BEGIN) || !SetEndOfFile((HANDLE)file))
        return fail_with(os_error, GetLastError());
    return ok(os_error);
}

ilheap_os_result_t ilheap__os_file_write(ilheap_os_file_t file, uint64_t offset, const void *data, size_t size,
                                         int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    const char *p = data;
    while (size != 0) {
        OVERLAPPED at;
        memset(&at, 0, sizeof at);
        at.Offset = (DWORD)offset;
        at.OffsetHigh = (DWORD)(offset >> 32);
        DWORD chunk = size > 0x40000000u ? 0x40000000u : (DWORD)size, done = 0;
        if (!WriteFile((HANDLE)file, p, chunk, &done, &at) || done == 0)
            return fail_with(os_error, done == 0 && GetLastError() == 0 ? ERROR_WRITE_FAULT : GetLastError());
        p += done;
        size -= done;
        offset += done;
    }
    return ok(os_error);
}

ilheap_os_result_t ilheap__os_file_map(ilheap_os_file_t file, uint64_t offset, size_t size, int writable, void **addr,
                                       int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    uint64_t end = offset + size;
    HANDLE m = CreateFileMappingW((HANDLE)file, NULL, writable ? PAGE_READWRITE : PAGE_READONLY, (DWORD)(end >> 32),
                                  (DWORD)end, NULL);
    if (m == NULL)
        return fail_with(os_error, GetLastError());
    void *p = MapViewOfFile(m, writable ? FILE_MAP_WRITE : FILE_MAP_READ, (DWORD)(offset >> 32), (DWORD)offset, size);
    DWORD e = GetLastError();
    CloseHandle(m);
    if (p == NULL)
        return fail_with(os_error, e);
    *addr = p;
    return ok(os_error);
}

ilheap_os_result_t ilheap__os_file_unmap(void *addr, size_t size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    (void)size;
    return UnmapViewOfFile(addr) ? ok(os_error) : fail_with(os_error, GetLastError());
}

ilheap_os_result_t ilheap__os_file_sync(void *addr, size_t size, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_FILE, os_error);
    return FlushViewOfFile(addr, size) ? ok(os_error) : fail_with(os_error, GetLastError());
}

void ilheap__os_file_close(ilheap_os_file_t file)
{
    if (file != ILHEAP_OS_NO_FILE)
        CloseHandle((HANDLE)file);
}

/* ------------------------------------------------------------- processes */

static uint64_t creation_time(HANDLE process)
{
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(process, &created, &exited, &kernel, &user))
        return 0;
    return (uint64_t)created.dwHighDateTime << 32 | created.dwLowDateTime;
}

ilheap_os_result_t ilheap__os_process_self(ilheap_os_process_t *self, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_PROCESS, os_error);
    memset(self, 0, sizeof *self);
    self->pid = GetCurrentProcessId();
    self->start = creation_time(GetCurrentProcess());
    return self->start != 0 ? ok(os_error) : fail_with(os_error, GetLastError());
}

ilheap_os_result_t ilheap__os_process_running(const ilheap_os_process_t *p, int *running, int *os_error)
{
    ILHEAP__FAULT_POINT(ILHEAP_FAULT_PROCESS, os_error);
    *running = 0;
    if (p->pid == 0 || p->pid > 0xFFFFFFFFu)
        return ok(os_error);
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)p->pid);
    if (h == NULL) /* no such process; or not ours to ask (access denied) */
        return GetLastError() == ERROR_INVALID_PARAMETER ? ok(os_error) : fail_with(os_error, GetLastError());
    DWORD code = 0;
    *running = GetExitCodeProcess(h, &code) && code == STILL_ACTIVE && creation_time(h) == p->start;
    CloseHandle(h);
    return ok(os_error);
}

/* ------------------------------------------------------------------ rest */

uint64_t ilheap__os_time_ns(void)
{
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    uint64_t t = (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime; /* 100 ns since 1601 */
    return (t - 116444736000000000ull) * 100;
}

int ilheap__os_error_is_missing(int os_error)
{
    return os_error == ERROR_FILE_NOT_FOUND || os_error == ERROR_PATH_NOT_FOUND;
}

const char *ilheap__os_error_text(int os_error, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, (DWORD)os_error, 0, buf,
                             (DWORD)cap, NULL);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == '.'))
        buf[--n] = 0;
    if (n == 0 && os_error == ERROR_DIRECTORY_NOT_SUPPORTED)
        snprintf(buf, cap, "is a directory");
    else if (n == 0)
        snprintf(buf, cap, "Windows error %d", os_error);
    return buf;
}
