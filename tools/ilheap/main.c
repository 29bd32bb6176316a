/* ilheap: the command line. Dispatches to one subcommand per file. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"scan", ilheap_cmd_scan, "list every IL method body of an assembly (table or JSON lines)"},
    {"rehome", ilheap_cmd_rehome, "move every IL body of an assembly into its module's heap, checked"},
    {"counts", ilheap_cmd_counts, "what the profiler's counts files hold (summary, JSON lines), snapshots"},
    {"cover", ilheap_cmd_cover, "line and branch coverage (Cobertura, LCOV) from the profiler's block counts"},
    {"collect", ilheap_cmd_collect, "run a command under the profiler and write its coverage (Cobertura, LCOV)"},
    {"demo", ilheap_cmd_demo, "create a heap above a loaded module and show where blocks land"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: ilheap COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'ilheap COMMAND --help' describes a command; 'ilheap --version' prints the version.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("ilheap %s\n", ILHEAP_TOOL_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ilheap: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
