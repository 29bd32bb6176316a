/* Custom attributes (ECMA-335 II.22.10) with their type's name resolved, and
 * properties (II.22.34) with their owner (PropertyMap, II.22.35) and their
 * accessors (MethodSemantics, II.22.28): what a coverage tool needs to honour
 * [ExcludeFromCodeCoverage] on assemblies, types, methods and properties; and
 * the names of the members that IL operands name, with which it recognises
 * the compiler's patterns (cached delegates, awaiters). */
#include "pe/cursor.h"
#include "pe/image.h"

#include <string.h>

enum {
    T_TYPEREF = 0x01,
    T_TYPEDEF = 0x02,
    T_FIELD = 0x04,
    T_METHODDEF = 0x06,
    T_MEMBERREF = 0x0A,
    T_CUSTOMATTRIBUTE = 0x0C,
    T_PROPERTYMAP = 0x15,
    T_PROPERTYPTR = 0x16,
    T_PROPERTY = 0x17,
    T_METHODSEMANTICS = 0x18,
    T_METHODSPEC = 0x2B,
};

/* HasCustomAttribute (II.24.2.6): 5 tag bits, the tables by tag. */
static const uint8_t has_custom_attribute[22] = {0x06, 0x04, 0x01, 0x02, 0x08, 0x09, 0x0A, 0x00, 0x0E, 0x17, 0x14,
                                                 0x11, 0x1A, 0x1B, 0x20, 0x23, 0x26, 0x27, 0x28, 0x2A, 0x2C, 0x2B};

#define SEMANTICS_SETTER 0x0001
#define SEMANTICS_GETTER 0x0002

static bool valid_handle(const ilheap_pe_t *pe)
{
    return pe != NULL && pe->magic == ILHEAP__PE_HANDLE_MAGIC;
}

static ilheap_status_t bad_row(const ilheap_pe_t *pe, ilheap_pe_error_t *error, unsigned table, uint32_t rid,
                               const char *what, uint32_t value)
{
    return ilheap__pe_fail(error, ILHEAP_PE_BAD_ROW, ilheap__row_offset(pe, table, rid),
                           "table 0x%02x row %u: %s %#x names no row", table, rid, what, value);
}

static bool row_ok(const ilheap_pe_t *pe, unsigned table, uint32_t rid)
{
    return rid != 0 && rid <= pe->tables[table].rows;
}

/* The namespace and name of TypeDef or TypeRef `rid`. */
static ilheap_status_t type_name(const ilheap_pe_t *pe, unsigned table, uint32_t rid, const char **ns,
                                 const char **name, ilheap_pe_error_t *error)
{
    /* TypeDef: Flags, Name, Namespace, ...; TypeRef: ResolutionScope, Name, Namespace. */
    ilheap_status_t st = ilheap_pe_string(pe, ilheap__cell(pe, table, rid, 1), name, NULL, error);
    if (st == ILHEAP_OK)
        st = ilheap_pe_string(pe, ilheap__cell(pe, table, rid, 2), ns, NULL, error);
    return st;
}

/* The attribute type of CustomAttributeType `coded` (row `rid`), through its
 * constructor: a MethodDef's owner, or a MemberRef's parent (TypeDef,
 * TypeRef; a TypeSpec, i.e. a generic attribute, gets empty names). */
static ilheap_status_t attribute_type(const ilheap_pe_t *pe, uint32_t rid, uint32_t coded, ilheap_pe_attribute_t *out,
                                      ilheap_pe_error_t *error)
{
    uint32_t tag = coded & 7, index = coded >> 3;
    out->type_namespace = out->type_name = "";
    if (tag == 2 && row_ok(pe, T_METHODDEF, index)) {
        uint32_t owner;
        out->constructor = 0x06000000u | index;
        ilheap_status_t st = ilheap_pe_method_owner(pe, index, &owner, error);
        return st != ILHEAP_OK ? st : type_name(pe, T_TYPEDEF, owner, &out->type_namespace, &out->type_name, error);
    }
    if (tag != 3 || !row_ok(pe, T_MEMBERREF, index))
        return bad_row(pe, error, T_CUSTOMATTRIBUTE, rid, "Type", coded);
    out->constructor = 0x0A000000u | index;
    uint32_t parent = ilheap__cell(pe, T_MEMBERREF, index, 0); /* MemberRefParent: 3 tag bits */
    uint32_t ptag = parent & 7, prid = parent >> 3;
    if (ptag == 0 && row_ok(pe, T_TYPEDEF, prid))
        return type_name(pe, T_TYPEDEF, prid, &out->type_namespace, &out->type_name, error);
    if (ptag == 1 && row_ok(pe, T_TYPEREF, prid))
        return type_name(pe, T_TYPEREF, prid, &out->type_namespace, &out->type_name, error);
    if (ptag == 4)
        return ILHEAP_OK; /* a TypeSpec: a generic attribute's instance */
    return bad_row(pe, error, T_MEMBERREF, index, "Class", parent);
}

uint32_t ilheap_pe_attribute_count(const ilheap_pe_t *pe)
{
    return valid_handle(pe) ? pe->tables[T_CUSTOMATTRIBUTE].rows : 0;
}

ilheap_status_t ilheap_pe_attribute(const ilheap_pe_t *pe, uint32_t rid, ilheap_pe_attribute_t *out,
                                    ilheap_pe_error_t *error)
{
    if (!valid_handle(pe))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET, "attribute");
    if (!row_ok(pe, T_CUSTOMATTRIBUTE, rid))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_ROW, pe->tables[T_CUSTOMATTRIBUTE].offset,
                               "CustomAttribute row %u of %u", rid, pe->tables[T_CUSTOMATTRIBUTE].rows);
    memset(out, 0, sizeof *out);
    uint32_t parent = ilheap__cell(pe, T_CUSTOMATTRIBUTE, rid, 0);
    uint32_t tag = parent & 31, prid = parent >> 5;
    if (tag >= sizeof has_custom_attribute || prid == 0 || prid > pe->tables[has_custom_attribute[tag]].rows)
        return bad_row(pe, error, T_CUSTOMATTRIBUTE, rid, "Parent", parent);
    out->parent = (uint32_t)has_custom_attribute[tag] << 24 | prid;
    out->value = ilheap__cell(pe, T_CUSTOMATTRIBUTE, rid, 2);
    return attribute_type(pe, rid, ilheap__cell(pe, T_CUSTOMATTRIBUTE, rid, 1), out, error);
}

uint32_t ilheap_pe_property_count(const ilheap_pe_t *pe)
{
    return valid_handle(pe) ? pe->tables[T_PROPERTY].rows : 0;
}

/* The position of property `rid` in the list PropertyMap indexes: its rid,
 * or (uncompressed metadata) the PropertyPtr row naming it; 0 when none. */
static uint32_t property_position(const ilheap_pe_t *pe, uint32_t rid)
{
    uint32_t ptrs = pe->tables[T_PROPERTYPTR].rows;
    if (ptrs == 0)
        return rid;
    for (uint32_t p = 1; p <= ptrs; p++)
        if (ilheap__cell(pe, T_PROPERTYPTR, p, 0) == rid)
            return p;
    return 0;
}

/* The TypeDef whose PropertyMap run holds position `pos` (PropertyList
 * values ascend: each type's properties are one run). 0 when none. */
static uint32_t property_owner(const ilheap_pe_t *pe, uint32_t pos)
{
    uint32_t found = pos != 0 ? ilheap__last_row_at_most(pe, T_PROPERTYMAP, 1, pos) : 0;
    if (found == 0)
        return 0;
    uint32_t owner = ilheap__cell(pe, T_PROPERTYMAP, found, 0);
    return row_ok(pe, T_TYPEDEF, owner) ? owner : 0;
}

/* Getter and setter of property `rid` from MethodSemantics (sorted by its
 * Association when the image says so: a binary search, else a walk). */
static void property_accessors(const ilheap_pe_t *pe, uint32_t rid, ilheap_pe_property_t *out)
{
    uint32_t rows = pe->tables[T_METHODSEMANTICS].rows, key = rid << 1 | 1; /* HasSemantics: Property is tag 1 */
    uint32_t first = 1;
    bool sorted = (pe->sorted >> T_METHODSEMANTICS & 1) != 0;
    if (sorted)
        first = ilheap__first_row_at_least(pe, T_METHODSEMANTICS, 2, key);
    for (uint32_t r = first; r <= rows; r++) {
        uint32_t assoc = ilheap__cell(pe, T_METHODSEMANTICS, r, 2);
        if (assoc != key) {
            if (sorted)
                break;
            continue;
        }
        uint32_t sem = ilheap__cell(pe, T_METHODSEMANTICS, r, 0), method = ilheap__cell(pe, T_METHODSEMANTICS, r, 1);
        if (!row_ok(pe, T_METHODDEF, method))
            continue;
        if (sem & SEMANTICS_GETTER)
            out->getter = 0x06000000u | method;
        if (sem & SEMANTICS_SETTER)
            out->setter = 0x06000000u | method;
    }
}

ilheap_status_t ilheap_pe_property(const ilheap_pe_t *pe, uint32_t rid, ilheap_pe_property_t *out,
                                   ilheap_pe_error_t *error)
{
    if (!valid_handle(pe))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET, "property");
    if (!row_ok(pe, T_PROPERTY, rid))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_ROW, pe->tables[T_PROPERTY].offset, "Property row %u of %u", rid,
                               pe->tables[T_PROPERTY].rows);
    memset(out, 0, sizeof *out);
    out->token = 0x17000000u | rid;
    out->flags = (uint16_t)ilheap__cell(pe, T_PROPERTY, rid, 0);
    ilheap_status_t st = ilheap_pe_string(pe, ilheap__cell(pe, T_PROPERTY, rid, 1), &out->name, NULL, error);
    if (st != ILHEAP_OK)
        return st;
    out->owner = property_owner(pe, property_position(pe, rid));
    property_accessors(pe, rid, out);
    return ILHEAP_OK;
}

ilheap_status_t ilheap_pe_member_name(const ilheap_pe_t *pe, uint32_t token, const char **name, ilheap_pe_error_t *error)
{
    if (!valid_handle(pe))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET, "member_name");
    uint32_t table = token >> 24, rid = token & 0xFFFFFF;
    if (table == T_METHODSPEC && ilheap_pe_member_method(pe, token, &token, NULL) == ILHEAP_OK)
        table = token >> 24, rid = token & 0xFFFFFF;
    /* Field: Flags, Name, Signature; MethodDef: RVA, ImplFlags, Flags, Name; MemberRef: Class, Name, Signature. */
    unsigned column = table == T_FIELD ? 1 : table == T_METHODDEF ? 3 : table == T_MEMBERREF ? 1 : 0;
    if (column == 0)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "token %#x names no field or method", token);
    if (!row_ok(pe, table, rid))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_ROW, pe->tables[table].offset, "table 0x%02x row %u of %u", table,
                               rid, pe->tables[table].rows);
    return ilheap_pe_string(pe, ilheap__cell(pe, table, rid, column), name, NULL, error);
}

ilheap_status_t ilheap_pe_member_method(const ilheap_pe_t *pe, uint32_t token, uint32_t *method, ilheap_pe_error_t *error)
{
    if (!valid_handle(pe))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_HANDLE, ILHEAP_PE_NO_OFFSET, "member_method");
    uint32_t table = token >> 24, rid = token & 0xFFFFFF;
    if (table == T_METHODDEF || table == T_MEMBERREF) {
        *method = token;
        return ILHEAP_OK;
    }
    if (table != T_METHODSPEC)
        return ilheap__pe_fail(error, ILHEAP_EINVAL, ILHEAP_PE_NO_OFFSET, "token %#x names no method", token);
    if (!row_ok(pe, T_METHODSPEC, rid))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_ROW, pe->tables[T_METHODSPEC].offset, "MethodSpec row %u of %u",
                               rid, pe->tables[T_METHODSPEC].rows);
    uint32_t coded = ilheap__cell(pe, T_METHODSPEC, rid, 0); /* MethodDefOrRef: 1 tag bit */
    *method = (coded & 1 ? (uint32_t)T_MEMBERREF : (uint32_t)T_METHODDEF) << 24 | coded >> 1;
    return ILHEAP_OK;
}
