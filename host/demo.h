#ifndef HOST_DEMO_H
#define HOST_DEMO_H
/* The embedded default demo (an RMI console script). */
extern const char rmmemu_demo_script[];
#endif
