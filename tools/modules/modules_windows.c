/* Loaded modules on Windows (modules.h): the Toolhelp32 module list. */
#include "modules.h"

#include <ctype.h>
#include <string.h>
#include <stdio.h>
#include <windows.h>
#include <tlhelp32.h>

static int contains_ignoring_case(const char *text, const char *part)
{
    size_t n = strlen(part);
    for (; *text != '\0'; text++) {
        size_t i = 0;
        while (i < n && text[i] != '\0' &&
               tolower((unsigned char)text[i]) == tolower((unsigned char)part[i]))
            i++;
        if (i == n)
            return 1;
    }
    return n == 0;
}

int ilheap__os_find_module(const char *name_part, ilheap_module_info_t *out)
{
    HMODULE main_program = GetModuleHandleW(NULL);
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPMODULE | TH32CS_SNAPMODULE32, GetCurrentProcessId());
    if (snapshot == INVALID_HANDLE_VALUE)
        return 0;
    MODULEENTRY32 entry;
    entry.dwSize = sizeof entry;
    int found = 0;
    for (BOOL more = Module32First(snapshot, &entry); more && !found; more = Module32Next(snapshot, &entry)) {
        int is_main = entry.hModule == main_program;
        if (name_part == NULL ? !is_main : !contains_ignoring_case(entry.szModule, name_part))
            continue;
        snprintf(out->name, sizeof out->name, "%s", entry.szExePath);
        out->base = (uintptr_t)entry.modBaseAddr;
        out->size = entry.modBaseSize; /* SizeOfImage */
        found = 1;
    }
    CloseHandle(snapshot);
    return found;
}

void *ilheap__os_image_region(size_t size)
{
    return VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

void ilheap__os_image_region_free(void *p, size_t size)
{
    (void)size; /* MEM_RELEASE frees the whole region */
    if (p != NULL)
        VirtualFree(p, 0, MEM_RELEASE);
}
