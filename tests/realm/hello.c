/* The smallest payload: a line on the console, then PSCI SYSTEM_OFF. */
#include "rt.h"

void main(void)
{
	rt_printf("hello from realm cpu %u (IPA width %lu)\n", rt_cpu(), (unsigned long)rt_ipa_bits);
}
