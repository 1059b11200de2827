/* Subcommand dispatch (filled in below). */
#include <stdio.h>
#include "host/cli.h"
#include "rmmemu/rmmemu.h"
int rmmemu_cli_main(int argc, char **argv)
{
	(void)argc; (void)argv;
	return 0;
}
