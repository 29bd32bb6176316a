/* CorProf.h (stand-in) first, then ilheap/com.h, under -Werror. */
#include "fake_corprof.h"

#include "ilheap/com.h"

#include "coexist.h"
#include "coexist_body.inc"

int coexist_corprof_first(void)
{
    return coexist_run(0xC0FFEE01u);
}
