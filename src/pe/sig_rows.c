/* Signatures where the metadata keeps them: the #Blob entry of a MethodDef,
 * MemberRef, StandAloneSig, TypeSpec, MethodSpec, Field or Property row, the
 * kind to decode it as, and the decoding with errors placed in the file.
 */
#include "pe/image.h"

#include <string.h>

/* Where each table keeps its signature (II.22), and the kind it holds
 * (ILHEAP_SIG_ANY: chosen by the blob's first byte). */
static const struct {
    uint8_t table, column;
    ilheap_sig_kind_t kind;
} signature_columns[] = {
    {ILHEAP__T_METHODDEF, 4, ILHEAP_SIG_METHOD_DEF}, {ILHEAP__T_MEMBERREF, 2, ILHEAP_SIG_ANY},
    {ILHEAP__T_STANDALONESIG, 0, ILHEAP_SIG_ANY},    {ILHEAP__T_TYPESPEC, 0, ILHEAP_SIG_TYPESPEC},
    {ILHEAP__T_METHODSPEC, 1, ILHEAP_SIG_METHODSPEC}, {ILHEAP__T_FIELD, 2, ILHEAP_SIG_FIELD},
    {ILHEAP__T_PROPERTY, 2, ILHEAP_SIG_PROPERTY},
};

static bool valid_handle(const ilheap_pe_t *pe)
{
    return pe != NULL && pe->magic == ILHEAP__PE_HANDLE_MAGIC;
}

uint32_t ilheap_pe_row_count(const ilheap_pe_t *pe, unsigned table)
{
    return valid_handle(pe) && table < ILHEAP__TYPE_SYSTEM_TABLES ? pe->tables[table].rows : 0;
}

/* A MemberRef names a field (0x06) or a method; a StandAloneSig holds locals
 * (0x07), a method signature for calli, or (older compilers) a field's. */
static ilheap_sig_kind_t kind_by_first_byte(uint8_t table, const ilheap__cursor_t *blob)
{
    uint8_t first = ilheap__cursor_left(blob) != 0 ? *ilheap__cursor_ptr(blob) : 0;
    if (first == ILHEAP_SIG_CC_FIELD)
        return ILHEAP_SIG_FIELD;
    if (table == ILHEAP__T_STANDALONESIG && first == ILHEAP_SIG_CC_LOCAL_SIG)
        return ILHEAP_SIG_LOCALS;
    return ILHEAP_SIG_METHOD_REF;
}

ilheap_status_t ilheap_pe_signature(const ilheap_pe_t *pe, uint32_t token, const uint8_t **blob, size_t *size,
                                    ilheap_sig_kind_t *kind, uint64_t *file_offset, ilheap_pe_error_t *error)
{
    if (!valid_handle(pe))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET, "signature");
    if (blob == NULL || size == NULL)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "signature with a NULL out-pointer");
    unsigned table = token >> 24, i = 0, n = sizeof signature_columns / sizeof signature_columns[0];
    while (i < n && signature_columns[i].table != table)
        i++;
    if (i == n)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET,
                               "token %#x is not of a table with signatures", token);
    uint32_t rid = token & 0x00FFFFFFu;
    if (rid == 0 || rid > pe->tables[table].rows)
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_ROW, pe->tables[table].offset, "token %#x: row %u of %u", token,
                               rid, pe->tables[table].rows);
    ilheap__cursor_t c;
    size_t row = ilheap__row_offset(pe, table, rid);
    ilheap_status_t st =
        ilheap__pe_blob(pe, ilheap__cell(pe, table, rid, signature_columns[i].column), row, &c, error);
    if (st != ILHEAP_OK)
        return st;
    *blob = ilheap__cursor_ptr(&c);
    *size = ilheap__cursor_left(&c);
    if (kind != NULL)
        *kind = signature_columns[i].kind != ILHEAP_SIG_ANY ? signature_columns[i].kind
                                                            : kind_by_first_byte((uint8_t)table, &c);
    if (file_offset != NULL)
        *file_offset = c.pos;
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pe_decode_signature(const ilheap_pe_t *pe, uint32_t token, ilheap_sig_arena_t *arena,
                                           ilheap_sig_t *out, ilheap_pe_error_t *error)
{
    const uint8_t *blob;
    size_t size;
    ilheap_sig_kind_t kind;
    uint64_t at;
    ilheap_status_t st = ilheap_pe_signature(pe, token, &blob, &size, &kind, &at, error);
    if (st != ILHEAP_OK)
        return st;
    ilheap_sig_error_t e;
    st = ilheap_sig_decode(kind, blob, size, 0, arena, out, &e);
    if (st != ILHEAP_OK)
        return ilheap__pe_fail(error, st, st == ILHEAP_EINVAL ? ILHEAP_PE_NO_OFFSET : at + e.offset,
                               "signature of %#x: %s", token, e.message);
    return ILHEAP_OK;
}
