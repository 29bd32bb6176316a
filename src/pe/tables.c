/* The table layer: the #~ / #- stream header, row counts, the size of every
 * column of every table (simple and coded indexes, heap indexes), and so the
 * file offset of every table (ECMA-335 II.22 and II.24.2.6). The same layer
 * reads a portable PDB's tables (0x30..0x37, Portable PDB v1.0), whose indexes
 * into the assembly's tables are sized by the row counts of its #Pdb stream
 * (pe->external_rows).
 *
 * All 45 tables must be sized, not only the ones ilheap reads: tables are
 * stored back to back, so one wrong row size anywhere before MethodDef puts
 * every MethodDef row in the wrong place.
 */
#include "pe/image.h"

#include <string.h>

#define MAX_RID 0x00FFFFFFu /* II.22: tokens carry 24-bit row numbers */

/* Heap-size flags of the table stream header (II.24.2.6), and CoreCLR's
 * "extra data" flag: 4 bytes follow the row counts. */
#define HEAP_STRINGS_4 0x01
#define HEAP_GUID_4 0x02
#define HEAP_BLOB_4 0x04
#define HEAP_EXTRA_DATA 0x40

/* Coded index kinds (II.24.2.6). */
enum {
    TYPE_DEF_OR_REF, HAS_CONSTANT, HAS_CUSTOM_ATTRIBUTE, HAS_FIELD_MARSHAL, HAS_DECL_SECURITY,
    MEMBER_REF_PARENT, HAS_SEMANTICS, METHOD_DEF_OR_REF, MEMBER_FORWARDED, IMPLEMENTATION,
    CUSTOM_ATTRIBUTE_TYPE, RESOLUTION_SCOPE, TYPE_OR_METHOD_DEF, HAS_CUSTOM_DEBUG_INFORMATION,
    CODED_KIND_COUNT
};

#define NO_TABLE 0xFF /* a tag value no table uses */

typedef struct coded_kind {
    uint8_t tag_bits;
    uint8_t count;
    uint8_t tables[27];
} coded_kind_t;

static const coded_kind_t coded_kinds[CODED_KIND_COUNT] = {
    [TYPE_DEF_OR_REF] = {2, 3, {0x02, 0x01, 0x1B}},
    [HAS_CONSTANT] = {2, 3, {0x04, 0x08, 0x17}},
    [HAS_CUSTOM_ATTRIBUTE] = {5, 22, {0x06, 0x04, 0x01, 0x02, 0x08, 0x09, 0x0A, 0x00, 0x0E, 0x17, 0x14,
                                      0x11, 0x1A, 0x1B, 0x20, 0x23, 0x26, 0x27, 0x28, 0x2A, 0x2C, 0x2B}},
    [HAS_FIELD_MARSHAL] = {1, 2, {0x04, 0x08}},
    [HAS_DECL_SECURITY] = {2, 3, {0x02, 0x06, 0x20}},
    [MEMBER_REF_PARENT] = {3, 5, {0x02, 0x01, 0x1A, 0x06, 0x1B}},
    [HAS_SEMANTICS] = {1, 2, {0x14, 0x17}},
    [METHOD_DEF_OR_REF] = {1, 2, {0x06, 0x0A}},
    [MEMBER_FORWARDED] = {1, 2, {0x04, 0x06}},
    [IMPLEMENTATION] = {2, 3, {0x26, 0x23, 0x27}},
    [CUSTOM_ATTRIBUTE_TYPE] = {3, 5, {NO_TABLE, NO_TABLE, 0x06, 0x0A, NO_TABLE}},
    [RESOLUTION_SCOPE] = {2, 4, {0x00, 0x1A, 0x23, 0x01}},
    [TYPE_OR_METHOD_DEF] = {1, 2, {0x02, 0x06}},
    /* Portable PDB v1.0, "CustomDebugInformation table". */
    [HAS_CUSTOM_DEBUG_INFORMATION] = {5, 27, {0x06, 0x04, 0x01, 0x02, 0x08, 0x09, 0x0A, 0x00, 0x0E, 0x17, 0x14,
                                              0x11, 0x1A, 0x1B, 0x20, 0x23, 0x26, 0x27, 0x28, 0x2A, 0x2C, 0x2B,
                                              0x30, 0x32, 0x33, 0x34, 0x35}},
};

/* Column kinds: an index into table t is t itself (0x00..0x2C). */
#define CODED(k) (0x40 + (k)) /* coded index of kind k */
#define LIST(t) (0x80 + (t))  /* a "list" index into t, which t's Ptr table may redirect */
#define U16 0xF0
#define U32 0xF1
#define STR 0xF2
#define GUID 0xF3
#define BLOB 0xF4

typedef struct table_schema {
    uint8_t count;
    uint8_t columns[ILHEAP__MAX_COLUMNS];
} table_schema_t;

/* II.22.2 .. II.22.39, by table number. Constant's Type is a byte plus a
 * padding byte: one 2-byte column here. */
static const table_schema_t schemas[ILHEAP__TABLE_COUNT] = {
    [0x00] = {5, {U16, STR, GUID, GUID, GUID}},                           /* Module */
    [0x01] = {3, {CODED(RESOLUTION_SCOPE), STR, STR}},                    /* TypeRef */
    [0x02] = {6, {U32, STR, STR, CODED(TYPE_DEF_OR_REF), LIST(0x04), LIST(0x06)}}, /* TypeDef */
    [0x03] = {1, {0x04}},                                                 /* FieldPtr */
    [0x04] = {3, {U16, STR, BLOB}},                                       /* Field */
    [0x05] = {1, {0x06}},                                                 /* MethodPtr */
    [0x06] = {6, {U32, U16, U16, STR, BLOB, LIST(0x08)}},                 /* MethodDef */
    [0x07] = {1, {0x08}},                                                 /* ParamPtr */
    [0x08] = {3, {U16, U16, STR}},                                        /* Param */
    [0x09] = {2, {0x02, CODED(TYPE_DEF_OR_REF)}},                         /* InterfaceImpl */
    [0x0A] = {3, {CODED(MEMBER_REF_PARENT), STR, BLOB}},                  /* MemberRef */
    [0x0B] = {3, {U16, CODED(HAS_CONSTANT), BLOB}},                       /* Constant */
    [0x0C] = {3, {CODED(HAS_CUSTOM_ATTRIBUTE), CODED(CUSTOM_ATTRIBUTE_TYPE), BLOB}}, /* CustomAttribute */
    [0x0D] = {2, {CODED(HAS_FIELD_MARSHAL), BLOB}},                       /* FieldMarshal */
    [0x0E] = {3, {U16, CODED(HAS_DECL_SECURITY), BLOB}},                  /* DeclSecurity */
    [0x0F] = {3, {U16, U32, 0x02}},                                       /* ClassLayout */
    [0x10] = {2, {U32, 0x04}},                                            /* FieldLayout */
    [0x11] = {1, {BLOB}},                                                 /* StandAloneSig */
    [0x12] = {2, {0x02, LIST(0x14)}},                                     /* EventMap */
    [0x13] = {1, {0x14}},                                                 /* EventPtr */
    [0x14] = {3, {U16, STR, CODED(TYPE_DEF_OR_REF)}},                     /* Event */
    [0x15] = {2, {0x02, LIST(0x17)}},                                     /* PropertyMap */
    [0x16] = {1, {0x17}},                                                 /* PropertyPtr */
    [0x17] = {3, {U16, STR, BLOB}},                                       /* Property */
    [0x18] = {3, {U16, 0x06, CODED(HAS_SEMANTICS)}},                      /* MethodSemantics */
    [0x19] = {3, {0x02, CODED(METHOD_DEF_OR_REF), CODED(METHOD_DEF_OR_REF)}}, /* MethodImpl */
    [0x1A] = {1, {STR}},                                                  /* ModuleRef */
    [0x1B] = {1, {BLOB}},                                                 /* TypeSpec */
    [0x1C] = {4, {U16, CODED(MEMBER_FORWARDED), STR, 0x1A}},              /* ImplMap */
    [0x1D] = {2, {U32, 0x04}},                                            /* FieldRVA */
    [0x1E] = {2, {U32, U32}},                                             /* EncLog */
    [0x1F] = {1, {U32}},                                                  /* EncMap */
    [0x20] = {9, {U32, U16, U16, U16, U16, U32, BLOB, STR, STR}},         /* Assembly */
    [0x21] = {1, {U32}},                                                  /* AssemblyProcessor */
    [0x22] = {3, {U32, U32, U32}},                                        /* AssemblyOS */
    [0x23] = {9, {U16, U16, U16, U16, U32, BLOB, STR, STR, BLOB}},        /* AssemblyRef */
    [0x24] = {2, {U32, 0x23}},                                            /* AssemblyRefProcessor */
    [0x25] = {4, {U32, U32, U32, 0x23}},                                  /* AssemblyRefOS */
    [0x26] = {3, {U32, STR, BLOB}},                                       /* File */
    [0x27] = {5, {U32, U32, STR, STR, CODED(IMPLEMENTATION)}},            /* ExportedType */
    [0x28] = {4, {U32, U32, STR, CODED(IMPLEMENTATION)}},                 /* ManifestResource */
    [0x29] = {2, {0x02, 0x02}},                                           /* NestedClass */
    [0x2A] = {4, {U16, U16, CODED(TYPE_OR_METHOD_DEF), STR}},             /* GenericParam */
    [0x2B] = {2, {CODED(METHOD_DEF_OR_REF), BLOB}},                       /* MethodSpec */
    [0x2C] = {2, {0x2A, CODED(TYPE_DEF_OR_REF)}},                         /* GenericParamConstraint */
    /* Portable PDB v1.0; 0x2D..0x2F are unused (count 0: Valid may not name them). */
    [0x30] = {4, {BLOB, GUID, BLOB, GUID}},                               /* Document */
    [0x31] = {2, {0x30, BLOB}},                                           /* MethodDebugInformation */
    [0x32] = {6, {0x06, 0x35, 0x33, 0x34, U32, U32}},                     /* LocalScope */
    [0x33] = {3, {U16, U16, STR}},                                        /* LocalVariable */
    [0x34] = {2, {STR, BLOB}},                                            /* LocalConstant */
    [0x35] = {2, {0x35, BLOB}},                                           /* ImportScope */
    [0x36] = {2, {0x06, 0x06}},                                           /* StateMachineMethod */
    [0x37] = {3, {CODED(HAS_CUSTOM_DEBUG_INFORMATION), GUID, BLOB}},      /* CustomDebugInformation */
};

/* The rows that size indexes into `table`: its own, plus (in a standalone
 * portable PDB) the assembly's. Both are below 2^24, so the sum fits. */
static uint32_t sizing_rows(const ilheap_pe_t *pe, unsigned table)
{
    uint32_t rows = pe->tables[table].rows;
    if (table < ILHEAP__TYPE_SYSTEM_TABLES)
        rows += pe->external_rows[table];
    return rows;
}

/* A table index is 4 bytes once the table has 2^16 rows (II.24.2.6). */
static unsigned index_size(const ilheap_pe_t *pe, unsigned table)
{
    return pe->minimal_delta || sizing_rows(pe, table) > 0xFFFF ? 4 : 2;
}

/* A coded index is 4 bytes once a table it can name has 2^(16 - tag bits)
 * rows (II.24.2.6). */
static unsigned coded_size(const ilheap_pe_t *pe, unsigned kind)
{
    const coded_kind_t *k = &coded_kinds[kind];
    uint32_t limit = 1u << (16 - k->tag_bits);
    if (pe->minimal_delta)
        return 4;
    for (unsigned i = 0; i < k->count; i++)
        if (k->tables[i] != NO_TABLE && sizing_rows(pe, k->tables[i]) >= limit)
            return 4;
    return 2;
}

static unsigned column_size(const ilheap_pe_t *pe, uint8_t kind)
{
    switch (kind) {
    case U16:
        return 2;
    case U32:
        return 4;
    case STR:
        return pe->minimal_delta || (pe->heap_sizes & HEAP_STRINGS_4) ? 4 : 2;
    case GUID:
        return pe->minimal_delta || (pe->heap_sizes & HEAP_GUID_4) ? 4 : 2;
    case BLOB:
        return pe->minimal_delta || (pe->heap_sizes & HEAP_BLOB_4) ? 4 : 2;
    default:
        break;
    }
    if (kind >= LIST(0)) {
        /* A list column (FieldList, MethodList, ParamList, EventList,
         * PropertyList) indexes the Ptr table when the image has one, so it
         * is wide if either table is large, as CoreCLR and System.Reflection.
         * Metadata size it. Each Ptr table directly precedes its target. */
        unsigned target = kind - LIST(0);
        unsigned via_ptr = index_size(pe, target - 1);
        unsigned direct = index_size(pe, target);
        return via_ptr > direct ? via_ptr : direct;
    }
    if (kind >= CODED(0))
        return coded_size(pe, kind - CODED(0));
    return index_size(pe, kind);
}

ilheap_status_t ilheap__pe_read_tables(ilheap_pe_t *pe, ilheap_pe_error_t *error)
{
    ilheap__cursor_t c;
    ilheap__cursor_init(&c, pe->data, pe->size, pe->table_stream.offset, pe->table_stream.size);
    size_t start = c.pos;
    /* Reserved u32, MajorVersion u8, MinorVersion u8, HeapSizes u8, Reserved u8,
     * Valid u64, Sorted u64 (II.24.2.6). */
    if (!ilheap__cursor_has(&c, 24))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_TABLE_STREAM, start,
                               "table stream of %zu bytes is shorter than its 24-byte header", pe->table_stream.size);
    pe->heap_sizes = pe->data[start + 6];
    pe->valid = ilheap__le64(pe->data + start + 8);
    pe->sorted = ilheap__le64(pe->data + start + 16);
    ilheap__cursor_skip(&c, 24);
    for (unsigned t = 0; t < 64; t++)
        if ((pe->valid >> t & 1) && (t >= ILHEAP__TABLE_COUNT || schemas[t].count == 0))
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_TABLE_STREAM, start + 8,
                                   "Valid %#llx names table %#x, whose row size is unknown",
                                   (unsigned long long)pe->valid, t);

    for (unsigned t = 0; t < ILHEAP__TABLE_COUNT; t++) {
        pe->tables[t].rows = 0;
        if (!(pe->valid >> t & 1))
            continue;
        size_t at = c.pos;
        uint32_t rows;
        if (!ilheap__read_u32(&c, &rows))
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_TABLE_STREAM, at, "row counts run past the table stream");
        if (rows > MAX_RID)
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_TABLE_STREAM, at,
                                   "table %#x claims %u rows (at most %#x)", t, rows, MAX_RID);
        pe->tables[t].rows = rows;
    }
    if ((pe->heap_sizes & HEAP_EXTRA_DATA) && !ilheap__cursor_skip(&c, 4))
        return ilheap__pe_fail(error, ILHEAP_PE_BAD_TABLE_STREAM, c.pos,
                               "extra-data flag 0x40 set, but the stream ends before its 4 bytes");

    /* Row sizes need every row count first (coded indexes look across tables). */
    size_t offset = c.pos;
    for (unsigned t = 0; t < ILHEAP__TABLE_COUNT; t++) {
        ilheap__table_t *table = &pe->tables[t];
        const table_schema_t *schema = &schemas[t];
        unsigned row = 0;
        for (unsigned col = 0; col < schema->count; col++) {
            unsigned size = column_size(pe, schema->columns[col]);
            table->column_offset[col] = (uint8_t)row;
            table->column_size[col] = (uint8_t)size;
            row += size;
        }
        table->row_size = row;
        table->offset = offset;
        size_t bytes; /* cannot overflow: rows < 2^24, row <= 36 */
        if (!ilheap__mul_size(table->rows, row, &bytes) || bytes > c.end - offset)
            return ilheap__pe_fail(error, ILHEAP_PE_BAD_TABLE_STREAM, offset,
                                   "table %#x (%u rows of %u bytes) runs past the table stream (ends at %#zx)", t,
                                   table->rows, row, c.end);
        offset += bytes;
    }
    pe->tables_end = offset;
    return ILHEAP_OK;
}

uint32_t ilheap__first_row_at_least(const ilheap_pe_t *pe, unsigned table, unsigned column, uint32_t key)
{
    uint32_t lo = 1, hi = pe->tables[table].rows + 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ilheap__cell(pe, table, mid, column) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint32_t ilheap__last_row_at_most(const ilheap_pe_t *pe, unsigned table, unsigned column, uint32_t key)
{
    uint32_t lo = 1, hi = pe->tables[table].rows + 1;
    while (lo < hi) { /* lo: the first row whose cell is > key */
        uint32_t mid = lo + (hi - lo) / 2;
        if (ilheap__cell(pe, table, mid, column) <= key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}
