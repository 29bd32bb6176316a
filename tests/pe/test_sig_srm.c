/* Differential test of the signature decoder against System.Reflection.
 * Metadata's SignatureDecoder: every MethodDef, MemberRef, StandAloneSig,
 * Field, Property, TypeSpec and MethodSpec signature of CoreLib, as
 * `SrmDump --sigs` spells SRM's reading, equals ilheap's tree spelled the same
 * way (the form is described in tests/pe/SrmDump/Program.cs, SigText). Needs
 * the .NET SDK (CMake passes ILHEAP_SRMDUMP and ILHEAP_DOTNET). */
#include "ilheap/pe.h"
#include "ilheap/sig.h"
#include "status_internal.h"
#include "test.h"

#include "assemblies.h"

#include <stdarg.h>

typedef struct text {
    char buf[1 << 16];
    size_t n;
} text_t;

ILHEAP_PRINTF_LIKE(2, 3) static void put(text_t *t, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    int m = vsnprintf(t->buf + t->n, sizeof t->buf - t->n, format, args);
    va_end(args);
    if (m < 0 || (size_t)m >= sizeof t->buf - t->n)
        TEST_FAIL_("signature text past %zu bytes", sizeof t->buf);
    t->n += (size_t)m;
}

static void put_method(text_t *t, const ilheap_sig_t *m);

/* A token as SRM's provider gets it: with the CLASS / VALUETYPE byte that
 * stood before it, or bare (a modifier's). */
static void put_token(text_t *t, uint8_t kind, uint32_t token)
{
    put(t, "%s0x%08x", kind == ILHEAP_ET_VALUETYPE ? "valuetype " : kind == ILHEAP_ET_CLASS ? "class " : "", token);
}

static void put_type(text_t *t, const ilheap_sig_type_t *n)
{
    for (; n != NULL; n = n->inner) {
        const char *name = ilheap_sig_element_name(n->element);
        switch (n->element) {
        case ILHEAP_ET_CMOD_REQD:
        case ILHEAP_ET_CMOD_OPT:
            put(t, "%s(", n->element == ILHEAP_ET_CMOD_REQD ? "modreq" : "modopt");
            put_token(t, 0, n->u.token);
            put(t, ") ");
            continue;
        case ILHEAP_ET_PTR:
        case ILHEAP_ET_BYREF:
        case ILHEAP_ET_PINNED:
        case ILHEAP_ET_SZARRAY:
            put(t, "%s ", n->element == ILHEAP_ET_PTR      ? "ptr"
                          : n->element == ILHEAP_ET_BYREF  ? "ref"
                          : n->element == ILHEAP_ET_PINNED ? "pinned"
                                                           : "szarray");
            continue;
        case ILHEAP_ET_ARRAY:
            put(t, "array(%u;", n->u.array.rank);
            for (uint32_t i = 0; i < n->u.array.size_count; i++)
                put(t, "%s%u", i ? "," : "", n->u.array.sizes[i]);
            put(t, ";");
            for (uint32_t i = 0; i < n->u.array.bound_count; i++)
                put(t, "%s%d", i ? "," : "", n->u.array.lower_bounds[i]);
            put(t, ") ");
            continue;
        case ILHEAP_ET_VALUETYPE:
        case ILHEAP_ET_CLASS:
            put_token(t, n->element, n->u.token);
            return;
        case ILHEAP_ET_GENERICINST:
            put(t, "generic(");
            put_token(t, n->inner->element, n->inner->u.token);
            put(t, ";");
            for (uint32_t i = 0; i < n->u.generic.count; i++) {
                put(t, i ? "," : "");
                put_type(t, n->u.generic.args[i]);
            }
            put(t, ")");
            return;
        case ILHEAP_ET_VAR:
        case ILHEAP_ET_MVAR:
            put(t, "%s%u", n->element == ILHEAP_ET_VAR ? "!" : "!!", n->u.number);
            return;
        case ILHEAP_ET_FNPTR:
            put(t, "fnptr(");
            put_method(t, n->u.method);
            put(t, ")");
            return;
        default:
            put(t, "%s", name != NULL ? name : "?");
            return;
        }
    }
}

static void put_list(text_t *t, const ilheap_sig_t *s)
{
    for (uint32_t i = 0; i < s->count; i++) {
        put(t, i ? "," : "");
        put_type(t, s->params[i].type);
    }
}

static void put_method(text_t *t, const ilheap_sig_t *m)
{
    put(t, "method(hdr=0x%02x gen=%u req=%u ret=", m->header, m->generic_count,
        m->has_sentinel ? m->sentinel : m->count);
    put_type(t, m->ret.type);
    put(t, " params=");
    put_list(t, m);
    put(t, ")");
}

static void render(text_t *t, const ilheap_sig_t *s)
{
    t->n = 0;
    t->buf[0] = '\0';
    switch (s->kind) {
    case ILHEAP_SIG_FIELD:
        put(t, "field(");
        put_type(t, s->ret.type);
        put(t, ")");
        break;
    case ILHEAP_SIG_LOCALS:
    case ILHEAP_SIG_METHODSPEC:
        put(t, "%s(", s->kind == ILHEAP_SIG_LOCALS ? "locals" : "inst");
        put_list(t, s);
        put(t, ")");
        break;
    case ILHEAP_SIG_TYPESPEC:
        put_type(t, s->ret.type);
        break;
    default:
        put_method(t, s);
    }
}

static void test_corelib_matches_srm(void)
{
    const char *srmdump = getenv("ILHEAP_SRMDUMP"), *dotnet = getenv("ILHEAP_DOTNET");
    if (srmdump == NULL || dotnet == NULL)
        SKIP("ILHEAP_SRMDUMP/ILHEAP_DOTNET not set (CMake sets them when the .NET SDK is found)");
    char why[600], path[1024], cmd[2048];
    size_t size;
    uint8_t *data = pe_test_framework_file("System.Private.CoreLib.dll", path, sizeof path, &size, why, sizeof why);
    if (data == NULL)
        SKIP("%s", why);
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    ASSERT_STATUS(ilheap_pe_open(data, size, &pe, &err), ILHEAP_OK);
    snprintf(cmd, sizeof cmd, "'%s' '%s' --sigs '%s'", dotnet, srmdump, path);
    FILE *p = popen(cmd, "r");
    ASSERT_NOT_NULL(p);
    static uint8_t memory[1 << 20];
    static text_t ours;
    static char line[sizeof ours.buf + 32];
    size_t lines = 0, diffs = 0, kinds[8] = {0};
    while (fgets(line, sizeof line, p) != NULL) {
        unsigned token;
        int at = 0;
        if (sscanf(line, "0x%x %n", &token, &at) != 1 || at == 0)
            TEST_FAIL_("unexpected SrmDump line: %s", line);
        line[strcspn(line, "\n")] = '\0';
        ilheap_sig_arena_t arena = {memory, sizeof memory, 0};
        ilheap_sig_t sig;
        if (ilheap_pe_decode_signature(pe, token, &arena, &sig, &err) != ILHEAP_OK)
            snprintf(ours.buf, sizeof ours.buf, "error %s", err.message);
        else
            render(&ours, &sig);
        kinds[sig.kind & 7]++;
        lines++;
        if (strcmp(ours.buf, line + at) != 0 && diffs++ < 10)
            fprintf(stderr, "  %#x:\n    SRM    %s\n    ilheap %s\n", token, line + at, ours.buf);
    }
    int status = pclose(p);
    size_t rows = 0;
    static const uint8_t tables[] = {0x06, 0x0A, 0x11, 0x04, 0x17, 0x1B, 0x2B};
    for (size_t k = 0; k < sizeof tables; k++)
        rows += ilheap_pe_row_count(pe, tables[k]);
    ilheap_pe_close(pe);
    free(data);
    fprintf(stderr, "  %zu signatures of %s compared with SRM's SignatureDecoder (%zu methods, %zu fields, "
            "%zu properties, %zu locals, %zu TypeSpecs, %zu MethodSpecs)\n", lines, path,
            kinds[ILHEAP_SIG_METHOD_DEF] + kinds[ILHEAP_SIG_METHOD_REF], kinds[ILHEAP_SIG_FIELD],
            kinds[ILHEAP_SIG_PROPERTY], kinds[ILHEAP_SIG_LOCALS], kinds[ILHEAP_SIG_TYPESPEC],
            kinds[ILHEAP_SIG_METHODSPEC]);
    ASSERT_EQ_U(status, 0);
    ASSERT_EQ_U(diffs, 0);
    ASSERT_EQ_U(lines, rows); /* every signature row, each once */
    ASSERT_GT_U(lines, 50000);
}

TEST_MAIN(TEST(test_corelib_matches_srm))
