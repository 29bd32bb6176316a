/* ilheap: everything a profiler needs, in one include. */
#ifndef ILHEAP_ILHEAP_H
#define ILHEAP_ILHEAP_H

#include "ilheap/status.h"
#include "ilheap/pe.h"
#include "ilheap/sig.h"
#include "ilheap/heap.h"
#include "ilheap/il.h"
#include "ilheap/com.h"

#endif
