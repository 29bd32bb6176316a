/* The operating-system services `ilheap collect` needs, one implementation per
 * system in process.c: the running program's own path, a fresh private
 * directory, the environment, running a command to its end, listing and
 * removing files. */
#ifndef ILHEAP_TOOLS_PROCESS_H
#define ILHEAP_TOOLS_PROCESS_H

#include <stdbool.h>
#include <stddef.h>

/* The absolute path of the running executable into buf; false when the
 * system does not say (or buf is too small). */
bool proc_self_path(char *buf, size_t size);

/* Creates a new directory only this user can enter, named PREFIX.XXXXXX under
 * the system's temporary directory ($TMPDIR, else /tmp; %TEMP% on Windows);
 * its path into buf. False with errno set on failure. */
bool proc_make_temp_dir(const char *prefix, char *buf, size_t size);

/* Sets (or replaces) an environment variable of this process, which the
 * commands it runs inherit. False when out of memory. */
bool proc_setenv(const char *name, const char *value);

/* Runs argv[0] (searched in PATH) with argv, this process's environment and
 * standard streams, and waits for it. Interrupt and quit signals reach the
 * command (it shares the terminal) but not this process while it waits, so
 * the caller can still write its results. Returns the command's exit status,
 * 128 + N when signal N ended it, 127 when it was not found, 126 when it could
 * not be run (*why then says why), -1 when no process could be made. */
int proc_run(char *const argv[], char *why, size_t why_size);

/* Calls visit(dir/name, name, ctx) for every regular file of dir whose name
 * starts with prefix; false when dir cannot be read. */
bool proc_list_files(const char *dir, const char *prefix, void (*visit)(const char *path, const char *name, void *ctx),
                     void *ctx);

/* Makes dir (one level) if missing; false with errno set when it cannot. */
bool proc_make_dir(const char *dir);

/* True while process `pid` exists (a zombie counts as gone). */
bool proc_alive(unsigned long pid);

/* Sleeps about ms milliseconds. */
void proc_sleep_ms(unsigned ms);

/* Removes the empty directory dir; false with errno set when it cannot. */
bool proc_remove_dir(const char *dir);

#endif
