/* The ilheap command's subcommands: each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit status. */
#ifndef ILHEAP_TOOLS_COMMANDS_H
#define ILHEAP_TOOLS_COMMANDS_H

int ilheap_cmd_demo(int argc, char **argv);
int ilheap_cmd_scan(int argc, char **argv);
int ilheap_cmd_rehome(int argc, char **argv);
int ilheap_cmd_cover(int argc, char **argv);
int ilheap_cmd_counts(int argc, char **argv);
int ilheap_cmd_collect(int argc, char **argv);

/* scan --lines (lines.c): the sequence points of FILE's portable PDB. */
#include <stdbool.h>
int ilheap_scan_lines(const char *path, bool builtin, bool jsonl);

#endif
