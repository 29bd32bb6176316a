/* Test hooks of the Windows address-space layer. */
#ifndef ILHEAP_OS_WINDOWS_HOOKS_H
#define ILHEAP_OS_WINDOWS_HOOKS_H

#include <windows.h>

typedef LPVOID(WINAPI *ilheap_virtual_alloc_fn_t)(LPVOID addr, SIZE_T size, DWORD type, DWORD protect);

/* Replaces the VirtualAlloc the layer calls for reserve and commit (NULL
 * restores the real one), so a test can play a system that reserves
 * somewhere else than asked. Not thread-safe: set it while no heap works. */
void ilheap__os_windows_set_virtual_alloc(ilheap_virtual_alloc_fn_t fn);

/* Turns the use of VirtualAlloc2 + MEM_ADDRESS_REQUIREMENTS on or off (on by
 * default where the system has it), so that the tests cover the VirtualQuery
 * gap walk too. The layer turns it off by itself when the system refuses the
 * address requirements as an invalid parameter, or returns an address outside
 * them (Wine 8.0 ignores them). */
void ilheap__os_windows_set_range_reserve(int enabled);

/* Nonzero when ilheap__os_reserve_in_range uses VirtualAlloc2. */
int ilheap__os_windows_has_range_reserve(void);

#endif
