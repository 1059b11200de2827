/* rmmemu command-line interface. */
#include <stdio.h>
#include <string.h>

#include "host/cli.h"

int main(int argc, char **argv)
{
	return rmmemu_cli_main(argc, argv);
}
