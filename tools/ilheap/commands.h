/* The ilheap command's subcommands: each takes the arguments after its name
 * and returns the process exit status. */
#ifndef ILHEAP_TOOLS_COMMANDS_H
#define ILHEAP_TOOLS_COMMANDS_H

int ilheap_cmd_demo(int argc, char **argv);

#endif
