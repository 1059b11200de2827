#ifndef HOST_DEMO_H
#define HOST_DEMO_H

#include <stddef.h>
/* The RMI walkthrough (`rmmemu tour`, an RMI console script). */
extern const char rmmemu_demo_script[];
/* The default demo realm: its configuration (YAML) and its payload (tests/realm/demo.c, embedded by
 * the build). */
extern const char rmmemu_demo_config[];
extern const unsigned char rmmemu_demo_payload[];
extern const size_t rmmemu_demo_payload_len;
#define DEMO_HOSTCALL_TOKEN 0xA77E
#endif
