/* Loaded modules on Windows (support.h): the Toolhelp32 module list. */
#include "support.h"

#include <ctype.h>
#include <string.h>
#include <stdio.h>
#include <windows.h>
#include <tlhelp32.h>

static bool contains_ignoring_case(const char *text, const char *part)
{
    size_t n = strlen(part);
    for (; *text != '\0'; text++) {
        size_t i = 0;
        while (i < n && text[i] != '\0' &&
               tolower((unsigned char)text[i]) == tolower((unsigned char)part[i]))
            i++;
        if (i == n)
            return true;
    }
    return n == 0;
}

bool support_find_module(const char *name_part, support_module_t *out)
{
    HMODULE main_program = GetModuleHandleW(NULL);
    HANDLE snapshot = CreateToolhelp32Snapshot(TH32CS_SNAPMODULE | TH32CS_SNAPMODULE32, GetCurrentProcessId());
    if (snapshot == INVALID_HANDLE_VALUE)
        return false;
    MODULEENTRY32 entry;
    entry.dwSize = sizeof entry;
    bool found = false;
    for (BOOL more = Module32First(snapshot, &entry); more && !found; more = Module32Next(snapshot, &entry)) {
        int is_main = entry.hModule == main_program;
        if (name_part == NULL ? !is_main : !contains_ignoring_case(entry.szModule, name_part))
            continue;
        snprintf(out->name, sizeof out->name, "%s", entry.szExePath);
        out->base = (uintptr_t)entry.modBaseAddr;
        out->size = entry.modBaseSize; /* SizeOfImage */
        found = true;
    }
    CloseHandle(snapshot);
    return found;
}

void *support_image_region(size_t size)
{
    return VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
}

void support_image_region_free(void *p, size_t size)
{
    (void)size; /* MEM_RELEASE frees the whole region */
    if (p != NULL)
        VirtualFree(p, 0, MEM_RELEASE);
}
