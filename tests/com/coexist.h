/* Entry points of the coexistence translation units: each includes the
 * CorProf.h stand-in and ilheap/com.h in one order, then drives an ilheap
 * allocator through the types it sees. Each returns the number of failed
 * checks and prints them. */
#ifndef ILHEAP_TEST_COEXIST_H
#define ILHEAP_TEST_COEXIST_H

int coexist_corprof_first(void);
int coexist_ilheap_first(void);

#endif
