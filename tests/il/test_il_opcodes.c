/* The opcode table (src/il/opcodes.c) against facts checked by hand in
 * ECMA-335 Partition III: every defined value and only those, names, operand
 * sizes, stack behaviour, branch forms and prefixes. */
#include <string.h>

#include "il/rewrite_internal.h"
#include "ilheap/rewrite.h"
#include "test.h"

static int defined_count(void)
{
    int n = 0;
    for (unsigned v = 0; v < 0x10000; v++)
        if (ilheap_il_opinfo((uint16_t)v) != NULL)
            n++;
    return n;
}

/* 218 opcodes in the runtime's table plus no. (0xFE19, III.2.2), which the
 * runtime lists as unused but ECMA-335 defines. */
static void test_opcode_count_and_holes(void)
{
    ASSERT_EQ_U(defined_count(), 219);
    static const uint16_t holes[] = {0x24, 0x77, 0x78, 0xA6, 0xB2, 0xBB, 0xC1, 0xC4, 0xC5, 0xC7,
                                     0xCF, 0xE1, 0xEF, 0xFE, 0xFF, 0xFE08, 0xFE10, 0xFE1B, 0xFE1F,
                                     0xFEFF, 0xFF00, 0x0100, 0xFD00};
    for (size_t i = 0; i < sizeof holes / sizeof holes[0]; i++)
        ASSERT_TRUE(ilheap_il_opinfo(holes[i]) == NULL);
}

static void test_opcode_rows_consistent_and_names_round_trip(void)
{
    for (unsigned v = 0; v < 0x10000; v++) {
        const ilheap_il_opinfo_t *in = ilheap_il_opinfo((uint16_t)v);
        if (in == NULL)
            continue;
        ASSERT_EQ_U(in->opcode, v);
        ASSERT_EQ_U(in->size, v > 0xFF ? 2 : 1);
        ASSERT_TRUE(in->name != NULL && in->name[0] != 0);
        ASSERT_EQ_U((unsigned)ilheap_il_opcode_by_name(in->name), v);
        ASSERT_TRUE(in->operand <= ILHEAP_OPND_UINT8);
        ASSERT_TRUE(in->flow <= ILHEAP_FLOW_BREAK);
    }
    ASSERT_EQ_U(ilheap_il_opcode_by_name("no"), (uint64_t)-1);
    ASSERT_EQ_U(ilheap_il_opcode_by_name(NULL), (uint64_t)-1);
}

typedef struct fact {
    const char *name;
    uint16_t opcode;
    size_t total_size; /* opcode + operand bytes (switch: with 0 targets) */
    uint8_t pops, pushes;
} fact_t;

#define V ILHEAP_STACK_VARIES
/* Checked against the instruction pages of ECMA-335 Partition III. */
static const fact_t facts[] = {
    {"nop", 0x00, 1, 0, 0},          {"ldarg.0", 0x02, 1, 0, 1},       {"ldarg.s", 0x0E, 2, 0, 1},
    {"stloc.s", 0x13, 2, 1, 0},      {"ldc.i4.m1", 0x15, 1, 0, 1},     {"ldc.i4.s", 0x1F, 2, 0, 1},
    {"ldc.i4", 0x20, 5, 0, 1},       {"ldc.i8", 0x21, 9, 0, 1},        {"ldc.r4", 0x22, 5, 0, 1},
    {"ldc.r8", 0x23, 9, 0, 1},       {"dup", 0x25, 1, 1, 2},           {"pop", 0x26, 1, 1, 0},
    {"jmp", 0x27, 5, 0, 0},          {"call", 0x28, 5, V, V},          {"calli", 0x29, 5, V, V},
    {"ret", 0x2A, 1, V, 0},          {"br.s", 0x2B, 2, 0, 0},          {"brfalse.s", 0x2C, 2, 1, 0},
    {"beq.s", 0x2E, 2, 2, 0},        {"blt.un.s", 0x37, 2, 2, 0},      {"br", 0x38, 5, 0, 0},
    {"blt.un", 0x44, 5, 2, 0},       {"switch", 0x45, 5, 1, 0},        {"ldind.i4", 0x4A, 1, 1, 1},
    {"stind.i4", 0x54, 1, 2, 0},     {"add", 0x58, 1, 2, 1},           {"callvirt", 0x6F, 5, V, V},
    {"newobj", 0x73, 5, V, 1},       {"throw", 0x7A, 1, 1, 0},         {"stfld", 0x7D, 5, 2, 0},
    {"stelem.ref", 0xA2, 1, 3, 0},   {"unbox.any", 0xA5, 5, 1, 1},     {"conv.ovf.u8", 0xBA, 1, 1, 1},
    {"ldtoken", 0xD0, 5, 0, 1},      {"endfinally", 0xDC, 1, 0, 0},    {"leave", 0xDD, 5, 0, 0},
    {"leave.s", 0xDE, 2, 0, 0},      {"stind.i", 0xDF, 1, 2, 0},       {"conv.u", 0xE0, 1, 1, 1},
    {"arglist", 0xFE00, 2, 0, 1},    {"ceq", 0xFE01, 2, 2, 1},         {"ldftn", 0xFE06, 6, 0, 1},
    {"ldarg", 0xFE09, 4, 0, 1},      {"stloc", 0xFE0E, 4, 1, 0},       {"localloc", 0xFE0F, 2, 1, 1},
    {"endfilter", 0xFE11, 2, 1, 0},  {"unaligned.", 0xFE12, 3, 0, 0},  {"volatile.", 0xFE13, 2, 0, 0},
    {"tail.", 0xFE14, 2, 0, 0},      {"initobj", 0xFE15, 6, 1, 0},     {"constrained.", 0xFE16, 6, 0, 0},
    {"cpblk", 0xFE17, 2, 3, 0},      {"initblk", 0xFE18, 2, 3, 0},     {"no.", 0xFE19, 3, 0, 0},
    {"rethrow", 0xFE1A, 2, 0, 0},    {"sizeof", 0xFE1C, 6, 0, 1},      {"refanytype", 0xFE1D, 2, 1, 1},
    {"readonly.", 0xFE1E, 2, 0, 0},
};

static void test_opcode_facts_from_the_spec(void)
{
    for (size_t i = 0; i < sizeof facts / sizeof facts[0]; i++) {
        const fact_t *f = &facts[i];
        const ilheap_il_opinfo_t *in = ilheap_il_opinfo(f->opcode);
        ASSERT_TRUE(in != NULL);
        if (strcmp(in->name, f->name) != 0)
            TEST_FAIL_("0x%X is %s, expected %s", f->opcode, in->name, f->name);
        ASSERT_EQ_U(in->size + ilheap_il_operand_size((ilheap_il_operand_t)in->operand), f->total_size);
        ASSERT_EQ_U(in->pops, f->pops);
        ASSERT_EQ_U(in->pushes, f->pushes);
    }
}

/* Each short branch has a long form 13 values up (leave.s: leave, one down)
 * with the same stack behaviour and flow. */
static void test_opcode_short_branches_have_long_forms(void)
{
    int shorts = 0;
    for (unsigned v = 0; v < 0x100; v++) {
        const ilheap_il_opinfo_t *in = ilheap_il_opinfo((uint16_t)v);
        if (in == NULL || in->operand != ILHEAP_OPND_BRANCH8)
            continue;
        shorts++;
        const ilheap_il_opinfo_t *lg = ilheap_il_opinfo((uint16_t)(v == 0xDE ? 0xDD : v + 13));
        ASSERT_TRUE(lg != NULL);
        ASSERT_EQ_U(lg->operand, ILHEAP_OPND_BRANCH32);
        ASSERT_EQ_U(lg->pops, in->pops);
        ASSERT_EQ_U(lg->flow, in->flow);
        char want[32];
        snprintf(want, sizeof want, "%s.s", lg->name);
        ASSERT_TRUE(strcmp(want, in->name) == 0);
    }
    ASSERT_EQ_U(shorts, 14);
}

static void test_opcode_prefixes(void)
{
    static const uint16_t pre[] = {0xFE12, 0xFE13, 0xFE14, 0xFE16, 0xFE19, 0xFE1E};
    unsigned seen = 0;
    int count = 0;
    for (unsigned v = 0; v < 0x10000; v++) {
        const ilheap_il_opinfo_t *in = ilheap_il_opinfo((uint16_t)v);
        if (in == NULL || !in->prefix)
            continue;
        count++;
        ASSERT_EQ_U(in->flow, ILHEAP_FLOW_PREFIX);
        ASSERT_EQ_U(seen & in->prefix, 0); /* one bit each */
        seen |= in->prefix;
        ASSERT_EQ_U(in->prefixable, 0);
    }
    ASSERT_EQ_U(count, 6);
    for (size_t i = 0; i < 6; i++)
        ASSERT_TRUE(ilheap_il_opinfo(pre[i])->prefix != 0);
    ASSERT_TRUE(ilheap_il_opinfo(ILHEAP_OP_CALL)->prefixable & ILHEAP_PREFIX_TAIL);
    ASSERT_TRUE(ilheap_il_opinfo(ILHEAP_OP_CALLVIRT)->prefixable & ILHEAP_PREFIX_CONSTRAINED);
    ASSERT_TRUE(ilheap_il_opinfo(ILHEAP_OP_LDIND_I4)->prefixable & ILHEAP_PREFIX_VOLATILE);
    ASSERT_TRUE(ilheap_il_opinfo(0x8F)->prefixable & ILHEAP_PREFIX_READONLY); /* ldelema */
    ASSERT_FALSE(ilheap_il_opinfo(ILHEAP_OP_ADD)->prefixable);
    ASSERT_FALSE(ilheap_il_opinfo(ILHEAP_OP_RET)->prefixable);
}

/* dd-trace-dotnet #875: a switch pseudo-opcode missing from the push table
 * was read out of bounds. Every opcode has a row with defined stack counts. */
static void test_bug_switch_missing_from_push_table(void)
{
    const ilheap_il_opinfo_t *sw = ilheap_il_opinfo(ILHEAP_OP_SWITCH);
    ASSERT_TRUE(sw != NULL);
    ASSERT_EQ_U(sw->pops, 1);
    ASSERT_EQ_U(sw->pushes, 0);
    ASSERT_EQ_U(sw->operand, ILHEAP_OPND_SWITCH);
    for (unsigned v = 0; v < 0x10000; v++) {
        const ilheap_il_opinfo_t *in = ilheap_il_opinfo((uint16_t)v);
        if (in == NULL)
            continue;
        ASSERT_TRUE(in->pops <= 3 || in->pops == ILHEAP_STACK_VARIES);
        ASSERT_TRUE(in->pushes <= 2 || in->pushes == ILHEAP_STACK_VARIES);
    }
}

/* The rewriter's compact per-opcode entries agree with the rows. */
static void test_opcode_fast_entries_match_rows(void)
{
    for (unsigned v = 0; v < 0x10000; v++) {
        const ilheap_il_opinfo_t *in = ilheap_il_opinfo((uint16_t)v);
        uint8_t f = il_fast((uint16_t)v);
        if (in == NULL) {
            ASSERT_EQ_U(f, IL_FAST_NONE);
            continue;
        }
        ASSERT_EQ_U(f & IL_FAST_KIND, in->operand);
        ASSERT_EQ_U((f & IL_FAST_PREFIX) != 0, in->prefix != 0);
        ASSERT_EQ_U((f & IL_FAST_TWO_BYTE) != 0, in->size == 2);
        int ends = in->flow == ILHEAP_FLOW_BRANCH || in->flow == ILHEAP_FLOW_RETURN || in->flow == ILHEAP_FLOW_THROW ||
                   in->flow == ILHEAP_FLOW_END_BLOCK;
        ASSERT_EQ_U((f & IL_FAST_ENDS) != 0, ends);
        int eh = v == ILHEAP_OP_RET || v == ILHEAP_OP_JMP || v == ILHEAP_OP_LOCALLOC || v == ILHEAP_OP_ENDFINALLY ||
                 v == ILHEAP_OP_ENDFILTER || v == ILHEAP_OP_RETHROW;
        ASSERT_EQ_U((f & IL_FAST_EH) != 0, eh);
        ASSERT_EQ_U(ilheap__il_operand_bytes[in->operand],
                    ilheap_il_operand_size((ilheap_il_operand_t)in->operand));
    }
}

TEST_MAIN(TEST(test_opcode_count_and_holes), TEST(test_opcode_rows_consistent_and_names_round_trip),
          TEST(test_opcode_facts_from_the_spec), TEST(test_opcode_short_branches_have_long_forms),
          TEST(test_opcode_prefixes), TEST(test_bug_switch_missing_from_push_table),
          TEST(test_opcode_fast_entries_match_rows))
