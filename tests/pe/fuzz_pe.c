/* libFuzzer target for the PE / ECMA-335 reader: open any bytes; when they
 * open, use every accessor on every row. libFuzzer hands over a buffer of
 * exactly `size` bytes, so ASan sees any read past it. A failure must come
 * with a PE-range status and a message; anything else aborts. */
#include "ilheap/pe.h"
#include "cursor_check.h"

#include <stdlib.h>
#include <string.h>

/* Walking every row of a huge table would only slow the fuzzer down. */
#define MAX_ROWS 4096
#define MAX_LAYOUT (16u << 20)

static void check_failure(ilheap_status_t st, const ilheap_pe_error_t *err)
{
    if (st != err->status || err->message[0] == '\0' || st == ILHEAP_OK)
        abort();
}

/* Signature rows decode or fail cleanly, and render as text in both
 * spellings (names looked up in whatever the tables say); the first rows of
 * each table only, so that the reader's own paths keep most of the time. */
#define MAX_SIGNATURE_ROWS 128
static void check_signatures(const ilheap_pe_t *pe)
{
    static const uint8_t tables[] = {0x06, 0x0A, 0x11, 0x04, 0x17, 0x1B, 0x2B};
    static uint64_t memory[1 << 14];
    ilheap_pe_error_t err;
    for (size_t k = 0; k < sizeof tables; k++)
        for (uint32_t rid = 1; rid <= ilheap_pe_row_count(pe, tables[k]) && rid <= MAX_SIGNATURE_ROWS; rid++) {
            uint32_t token = (uint32_t)tables[k] << 24 | rid;
            ilheap_sig_arena_t arena = {memory, sizeof memory, 0};
            ilheap_sig_t sig;
            ilheap_status_t st = ilheap_pe_decode_signature(pe, token, &arena, &sig, &err);
            if (st != ILHEAP_OK) {
                check_failure(st, &err);
                continue;
            }
            char text[512];
            for (unsigned style = 0; style < 4; style++)
                if ((st = ilheap_pe_sig_text(pe, &sig, token, style, text, sizeof text, NULL, &err)) != ILHEAP_OK &&
                    (st != ILHEAP_EINVAL || strlen(text) != sizeof text - 1))
                    abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    ilheap_status_t st = ilheap_pe_open(data, size, &pe, &err);
    if (st != ILHEAP_OK) {
        check_failure(st, &err);
        if (st < 300 || st > 399 || err.file_offset == ILHEAP_PE_NO_OFFSET || pe != NULL)
            abort();
        return 0;
    }

    volatile uint8_t sink = 0;
    uint32_t methods = ilheap_pe_method_count(pe);
    for (uint32_t rid = 1; rid <= methods && rid <= MAX_ROWS; rid++) {
        ilheap_pe_method_t m;
        const char *name;
        const uint8_t *body;
        size_t available;
        uint32_t owner;
        if (ilheap_pe_method(pe, rid, &m, &err) != ILHEAP_OK)
            abort(); /* open proved every row lies inside the table stream */
        if ((st = ilheap_pe_method_name(pe, rid, &name, &err)) == ILHEAP_OK)
            sink ^= (uint8_t)name[strlen(name)];
        else
            check_failure(st, &err);
        if ((st = ilheap_pe_method_owner(pe, rid, &owner, &err)) == ILHEAP_OK) {
            ilheap_pe_typedef_t td;
            if (ilheap_pe_typedef(pe, owner, &td, &err) != ILHEAP_OK)
                abort();
        } else {
            check_failure(st, &err);
        }
        if ((st = ilheap_pe_method_body(pe, &m, &body, &available, &err)) == ILHEAP_OK)
            sink ^= body[0] ^ body[available - 1];
        else
            check_failure(st, &err);
    }
    uint32_t types = ilheap_pe_typedef_count(pe);
    for (uint32_t rid = 1; rid <= types && rid <= MAX_ROWS; rid++) {
        ilheap_pe_typedef_t td;
        const char *s;
        if (ilheap_pe_typedef(pe, rid, &td, &err) != ILHEAP_OK)
            abort();
        if (ilheap_pe_string(pe, td.name, &s, NULL, &err) == ILHEAP_OK)
            sink ^= (uint8_t)s[0];
        if (ilheap_pe_string(pe, td.namespace_, &s, NULL, &err) == ILHEAP_OK)
            sink ^= (uint8_t)s[0];
    }
    for (uint32_t rid = 1; rid <= ilheap_pe_attribute_count(pe) && rid <= MAX_ROWS; rid++) {
        ilheap_pe_attribute_t a;
        const char *member;
        if ((st = ilheap_pe_attribute(pe, rid, &a, &err)) == ILHEAP_OK) {
            sink ^= (uint8_t)(a.type_name[0] ^ a.type_namespace[0]);
            if ((st = ilheap_pe_member_name(pe, a.constructor, &member, &err)) == ILHEAP_OK)
                sink ^= (uint8_t)member[0];
            else
                check_failure(st, &err);
        } else
            check_failure(st, &err);
    }
    for (uint32_t rid = 1; rid <= ilheap_pe_property_count(pe) && rid <= MAX_ROWS; rid++) {
        ilheap_pe_property_t p;
        if ((st = ilheap_pe_property(pe, rid, &p, &err)) == ILHEAP_OK)
            sink ^= (uint8_t)(p.name[0] ^ p.owner ^ p.getter ^ p.setter);
        else
            check_failure(st, &err);
    }
    if (methods <= MAX_ROWS) { /* the fast walk agrees with the row-by-row API */
        char why[256];
        if (pe_check_cursor(pe, why, sizeof why) < 0)
            abort();
    }
    uint32_t token;
    ilheap_pe_find_method(pe, "System.Object::ToString", &token, NULL);
    check_signatures(pe);

    ilheap_pe_info_t info;
    if (ilheap_pe_get_info(pe, &info) != ILHEAP_OK)
        abort();
    if (info.size_of_image <= MAX_LAYOUT) {
        uint8_t *region = malloc(info.size_of_image ? info.size_of_image : 1);
        if (region != NULL) {
            if (ilheap_pe_layout(pe, region, info.size_of_image, &err) != ILHEAP_OK)
                abort();
            free(region);
        }
    }
    ilheap_pe_close(pe);
    (void)sink;
    return 0;
}
