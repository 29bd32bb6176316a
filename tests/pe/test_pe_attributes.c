/* Custom attributes and properties (src/pe/attributes.c) on the real shared
 * framework: every row of every assembly resolves, every property's accessors
 * belong to its owner and carry its name, and known facts of CoreLib hold
 * (the assembly's own attributes, String.Length, the attribute type
 * ExcludeFromCodeCoverageAttribute used on a CoreLib member). Bad rows and
 * handles fail with their status. */
#include "ilheap/pe.h"
#include "test.h"

#include "assemblies.h"

#include <string.h>

typedef struct totals {
    uint64_t assemblies, attributes, properties, accessors;
    uint64_t assembly_attributes, typespec_attributes;
    char failure[512];
} totals_t;

static const char *type_name_of(ilheap_pe_t *pe, uint32_t typedef_rid, const char **ns)
{
    ilheap_pe_typedef_t td;
    const char *name = "?";
    *ns = "?";
    if (ilheap_pe_typedef(pe, typedef_rid, &td, NULL) == ILHEAP_OK) {
        ilheap_pe_string(pe, td.name, &name, NULL, NULL);
        ilheap_pe_string(pe, td.namespace_, ns, NULL, NULL);
    }
    return name;
}

/* An accessor of property p: owned by p's type and named get_/set_ + its
 * name (after the interface prefix of an explicit implementation; an
 * indexer's "this[]" is "Item"). */
static bool accessor_ok(ilheap_pe_t *pe, const ilheap_pe_property_t *p, uint32_t token, const char *prefix)
{
    uint32_t owner;
    const char *name;
    if (ilheap_pe_method_owner(pe, token & 0xFFFFFF, &owner, NULL) != ILHEAP_OK || owner != p->owner ||
        ilheap_pe_method_name(pe, token & 0xFFFFFF, &name, NULL) != ILHEAP_OK)
        return false;
    const char *short_prop = strrchr(p->name, '.') ? strrchr(p->name, '.') + 1 : p->name;
    const char *short_acc = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
    if (strcmp(short_prop, "this[]") == 0) /* an explicitly implemented indexer */
        short_prop = "Item";
    return strncmp(short_acc, prefix, 4) == 0 && strcmp(short_acc + 4, short_prop) == 0;
}

static void visit(const char *file, const uint8_t *data, size_t size, void *ctx)
{
    totals_t *t = ctx;
    ilheap_pe_t *pe;
    ilheap_pe_error_t err;
    if (t->failure[0] != 0 || ilheap_pe_open(data, size, &pe, &err) != ILHEAP_OK)
        return; /* not every file of the framework is a .NET assembly */
    t->assemblies++;
    for (uint32_t rid = 1; rid <= ilheap_pe_attribute_count(pe) && t->failure[0] == 0; rid++) {
        ilheap_pe_attribute_t a;
        if (ilheap_pe_attribute(pe, rid, &a, &err) != ILHEAP_OK) {
            snprintf(t->failure, sizeof t->failure, "%s: CustomAttribute %u: %s", file, rid, err.message);
            break;
        }
        t->attributes++;
        t->assembly_attributes += a.parent == 0x20000001u;
        t->typespec_attributes += a.type_name[0] == 0;
        uint32_t table = a.constructor >> 24;
        if (table != 0x06 && table != 0x0A)
            snprintf(t->failure, sizeof t->failure, "%s: CustomAttribute %u: constructor %#x", file, rid, a.constructor);
        if (table == 0x06) {
            const char *ctor;
            if (ilheap_pe_method_name(pe, a.constructor & 0xFFFFFF, &ctor, NULL) != ILHEAP_OK || strcmp(ctor, ".ctor") != 0)
                snprintf(t->failure, sizeof t->failure, "%s: CustomAttribute %u: its MethodDef is not a .ctor", file, rid);
        }
    }
    for (uint32_t rid = 1; rid <= ilheap_pe_property_count(pe) && t->failure[0] == 0; rid++) {
        ilheap_pe_property_t p;
        if (ilheap_pe_property(pe, rid, &p, &err) != ILHEAP_OK) {
            snprintf(t->failure, sizeof t->failure, "%s: Property %u: %s", file, rid, err.message);
            break;
        }
        t->properties++;
        if (p.owner == 0 || (p.getter != 0 && !accessor_ok(pe, &p, p.getter, "get_")) ||
            (p.setter != 0 && !accessor_ok(pe, &p, p.setter, "set_")))
            snprintf(t->failure, sizeof t->failure, "%s: Property %u (%s): owner %u, getter %#x, setter %#x disagree",
                     file, rid, p.name, p.owner, p.getter, p.setter);
        t->accessors += (p.getter != 0) + (p.setter != 0);
    }
    ilheap_pe_close(pe);
}

static void test_framework_rows_resolve(void)
{
    totals_t t = {0};
    char dir[4096], why[512];
    long n = pe_test_each_framework_dll(visit, &t, dir, sizeof dir, why, sizeof why);
    if (n == -1)
        SKIP("%s", why);
    if (n < 0)
        TEST_FAIL_("%s", why);
    if (t.failure[0] != 0)
        TEST_FAIL_("%s", t.failure);
    fprintf(stderr, "  %s: %llu assemblies, %llu attributes (%llu on assemblies, %llu generic), %llu properties, "
            "%llu accessors\n", dir, (unsigned long long)t.assemblies, (unsigned long long)t.attributes,
            (unsigned long long)t.assembly_attributes, (unsigned long long)t.typespec_attributes,
            (unsigned long long)t.properties, (unsigned long long)t.accessors);
    ASSERT_GT_U(t.assemblies, 100);
    ASSERT_GE_U(t.assembly_attributes, t.assemblies); /* every framework assembly has some */
    ASSERT_GT_U(t.accessors, t.properties);
}

static ilheap_pe_t *open_corelib(uint8_t **data)
{
    char dir[4096], why[512], path[4200];
    if (pe_test_find_framework(dir, sizeof dir, why, sizeof why) != 0)
        SKIP("%s", why);
    snprintf(path, sizeof path, "%s/System.Private.CoreLib.dll", dir);
    size_t size;
    ilheap_pe_t *pe;
    if ((*data = pe_test_read_file(path, &size)) == NULL || ilheap_pe_open(*data, size, &pe, NULL) != ILHEAP_OK)
        TEST_FAIL_("cannot open %s", path);
    return pe;
}

static void test_corelib_facts(void)
{
    uint8_t *data;
    ilheap_pe_t *pe = open_corelib(&data);
    /* String.Length: a getter get_Length owned by System.String, no setter. */
    bool length = false;
    for (uint32_t rid = 1; rid <= ilheap_pe_property_count(pe); rid++) {
        ilheap_pe_property_t p;
        const char *ns, *name;
        ASSERT_STATUS(ilheap_pe_property(pe, rid, &p, NULL), ILHEAP_OK);
        name = type_name_of(pe, p.owner, &ns);
        if (strcmp(p.name, "Length") == 0 && strcmp(name, "String") == 0 && strcmp(ns, "System") == 0) {
            const char *getter;
            ASSERT_STATUS(ilheap_pe_method_name(pe, p.getter & 0xFFFFFF, &getter, NULL), ILHEAP_OK);
            ASSERT_STR_EQ(getter, "get_Length");
            ASSERT_EQ_U(p.setter, 0);
            length = true;
        }
    }
    ASSERT_TRUE(length);
    /* An attribute of the assembly whose type is a TypeRef or TypeDef with a
     * name, and one typed by a TypeDef of CoreLib (its own attribute types). */
    bool own = false, on_assembly = false;
    for (uint32_t rid = 1; rid <= ilheap_pe_attribute_count(pe); rid++) {
        ilheap_pe_attribute_t a;
        ASSERT_STATUS(ilheap_pe_attribute(pe, rid, &a, NULL), ILHEAP_OK);
        on_assembly |= a.parent == 0x20000001u && strstr(a.type_name, "Attribute") != NULL;
        own |= strcmp(a.type_namespace, "System.Runtime.CompilerServices") == 0 &&
               strcmp(a.type_name, "IntrinsicAttribute") == 0 && a.constructor >> 24 == 0x06;
    }
    ASSERT_TRUE(on_assembly);
    ASSERT_TRUE(own);
    /* Member names: every MethodDef's as ilheap_pe_method_name gives it; the
     * attributes' MemberRef constructors are all ".ctor". */
    for (uint32_t rid = 1; rid <= ilheap_pe_method_count(pe); rid++) {
        const char *a, *b;
        ASSERT_STATUS(ilheap_pe_member_name(pe, 0x06000000u | rid, &a, NULL), ILHEAP_OK);
        ASSERT_STATUS(ilheap_pe_method_name(pe, rid, &b, NULL), ILHEAP_OK);
        ASSERT_TRUE(a == b);
    }
    for (uint32_t rid = 1; rid <= ilheap_pe_attribute_count(pe); rid++) {
        ilheap_pe_attribute_t at;
        const char *ctor;
        ASSERT_STATUS(ilheap_pe_attribute(pe, rid, &at, NULL), ILHEAP_OK);
        ASSERT_STATUS(ilheap_pe_member_name(pe, at.constructor, &ctor, NULL), ILHEAP_OK);
        ASSERT_STR_EQ(ctor, ".ctor");
    }
    ilheap_pe_close(pe);
    free(data);
}

static void test_bad_rows_and_handles(void)
{
    uint8_t *data;
    ilheap_pe_t *pe = open_corelib(&data);
    ilheap_pe_attribute_t a;
    ilheap_pe_property_t p;
    ilheap_pe_error_t err;
    ASSERT_STATUS(ilheap_pe_attribute(pe, 0, &a, &err), ILHEAP_PE_BAD_ROW);
    ASSERT_TRUE(err.message[0] != 0);
    ASSERT_STATUS(ilheap_pe_attribute(pe, ilheap_pe_attribute_count(pe) + 1, &a, &err), ILHEAP_PE_BAD_ROW);
    ASSERT_STATUS(ilheap_pe_property(pe, ilheap_pe_property_count(pe) + 1, &p, &err), ILHEAP_PE_BAD_ROW);
    ASSERT_STATUS(ilheap_pe_attribute(NULL, 1, &a, &err), ILHEAP_PE_BAD_HANDLE);
    ASSERT_STATUS(ilheap_pe_property(NULL, 1, &p, &err), ILHEAP_PE_BAD_HANDLE);
    ASSERT_EQ_U(ilheap_pe_attribute_count(NULL), 0);
    const char *name;
    ASSERT_STATUS(ilheap_pe_member_name(pe, 0x02000001u, &name, &err), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_pe_member_name(pe, 0x06FFFFFFu, &name, &err), ILHEAP_PE_BAD_ROW);
    ASSERT_STATUS(ilheap_pe_member_name(NULL, 0x06000001u, &name, &err), ILHEAP_PE_BAD_HANDLE);
    uint32_t method;
    ASSERT_STATUS(ilheap_pe_member_method(pe, 0x06000001u, &method, &err), ILHEAP_OK);
    ASSERT_EQ_X(method, 0x06000001u);
    ASSERT_STATUS(ilheap_pe_member_method(pe, 0x02000001u, &method, &err), ILHEAP_EINVAL);
    ASSERT_STATUS(ilheap_pe_member_method(pe, 0x2BFFFFFFu, &method, &err), ILHEAP_PE_BAD_ROW);
    /* every MethodSpec names a MethodDef or MemberRef whose name reads */
    for (uint32_t rid = 1; rid <= ilheap_pe_row_count(pe, 0x2B); rid++) {
        ASSERT_STATUS(ilheap_pe_member_method(pe, 0x2B000000u | rid, &method, &err), ILHEAP_OK);
        ASSERT_TRUE(method >> 24 == 0x06 || method >> 24 == 0x0A);
        ASSERT_STATUS(ilheap_pe_member_name(pe, method, &name, &err), ILHEAP_OK);
    }
    ASSERT_EQ_U(ilheap_pe_property_count(NULL), 0);
    ilheap_pe_close(pe);
    free(data);
}

TEST_MAIN(TEST(test_framework_rows_resolve), TEST(test_corelib_facts), TEST(test_bad_rows_and_handles))
