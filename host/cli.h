#ifndef HOST_CLI_H
#define HOST_CLI_H
int rmmemu_cli_main(int argc, char **argv);
#endif
