/* ilheap/com.h first, then CorProf.h (stand-in), under -Werror. */
#include "ilheap/com.h"

#include "fake_corprof.h"

#include "coexist.h"
#include "coexist_body.inc"

int coexist_ilheap_first(void)
{
    return coexist_run(0xC0FFEE02u);
}
