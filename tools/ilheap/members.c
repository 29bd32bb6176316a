/* Methods as the developer wrote them (members.h): compiler-made methods and
 * types folded into their user method and type by the C# compiler's names,
 * exclusion attributes resolved through types, properties and owners, and
 * the test-assembly rule. */
#include "members.h"

#include <stdlib.h>
#include <string.h>

#define MAX_NESTING 64

/* The attributes every run excludes by (coverlet's defaults). */
static const char *const default_exclusions[] = {"ExcludeFromCodeCoverage", "ExcludeFromCoverage"};

/* Namespaces of the test frameworks' attributes: an assembly using one is a
 * test assembly (xunit v2 and v3, NUnit, MSTest, TUnit). */
static const char *const test_namespaces[] = {"Xunit", "NUnit.Framework", "Microsoft.VisualStudio.TestTools.UnitTesting",
                                              "TUnit.Core"};

/* ASCII case-insensitive equality of a[0..n) and b (all of it). */
static bool ieq_n(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char x = a[i] >= 'A' && a[i] <= 'Z' ? (char)(a[i] + 32) : a[i];
        char y = b[i] >= 'A' && b[i] <= 'Z' ? (char)(b[i] + 32) : b[i];
        if (x != y)
            return false;
    }
    return true;
}

/* True when `want` (a name given by the user or a default, with or without
 * "Attribute", short or namespace-qualified) names the attribute type ns.name. */
static bool names_attribute(const char *want, size_t n, const char *ns, const char *name)
{
    size_t suffix = strlen("Attribute");
    bool has_suffix = n >= suffix && ieq_n(want + n - suffix, suffix, "Attribute");
    size_t len = strlen(name);
    bool name_suffix = len >= suffix && strcmp(name + len - suffix, "Attribute") == 0;
    size_t bare = name_suffix && !has_suffix ? len - suffix : len; /* compare without the suffix */
    size_t nslen = strlen(ns);
    if (n == bare && strncmp(want, name, n) == 0)
        return true;
    /* Namespace-qualified: "Ns.Name" */
    return nslen != 0 && n == nslen + 1 + bare && strncmp(want, ns, nslen) == 0 && want[nslen] == '.' &&
           strncmp(want + nslen + 1, name, bare) == 0;
}

static bool excluding_attribute(const cov_filters_t *f, const char *ns, const char *name)
{
    for (size_t i = 0; i < sizeof default_exclusions / sizeof *default_exclusions; i++)
        if (names_attribute(default_exclusions[i], strlen(default_exclusions[i]), ns, name))
            return true;
    const char *list = f != NULL ? f->exclude_by_attribute : NULL;
    while (list != NULL && *list != 0) {
        const char *end = strchr(list, ',');
        size_t n = end != NULL ? (size_t)(end - list) : strlen(list);
        while (n > 0 && list[0] == ' ')
            list++, n--;
        while (n > 0 && list[n - 1] == ' ')
            n--;
        if (n != 0 && names_attribute(list, n, ns, name))
            return true;
        list = end != NULL ? end + 1 : NULL;
    }
    return false;
}

/* The name inside the compiler's angle brackets of a generated name:
 * "<Main>b__0_0" -> "Main", "<<Run>b__1_0>d" -> "Run" (an async lambda's
 * state machine), into buf; false when `name` is not of that shape. */
static bool user_name_of(const char *name, char *buf, size_t size)
{
    char tmp[512];
    for (int depth = 0; depth < MAX_NESTING && name[0] == '<'; depth++) {
        int level = 0;
        const char *close = NULL;
        for (const char *p = name; *p != 0 && close == NULL; p++) {
            level += *p == '<' ? 1 : *p == '>' ? -1 : 0;
            if (level == 0)
                close = p;
        }
        if (close == NULL || close == name + 1)
            return false; /* "<>c", "<>c__DisplayClass0_0": no method named */
        size_t n = (size_t)(close - name - 1);
        if (n >= sizeof tmp)
            return false;
        memmove(tmp, name + 1, n); /* name may be tmp itself */
        tmp[n] = 0;
        if (tmp[0] != '<') {
            if (n >= size)
                return false;
            memcpy(buf, tmp, n + 1);
            return true;
        }
        name = tmp; /* "<<Run>b__1_0>d" -> "<Run>b__1_0" -> "Run" */
    }
    return false;
}

/* Per-type facts gathered once. */
typedef struct types {
    uint32_t count;
    uint32_t *enclosing; /* by rid */
    bool *generated;     /* the name starts with '<' */
    bool *excluded;      /* an exclusion attribute on it */
} types_t;

static ilheap_status_t read_types(types_t *t, const ilheap_pe_t *pe, ilheap_pe_error_t *error)
{
    t->count = ilheap_pe_typedef_count(pe);
    t->enclosing = calloc(t->count + 1u, sizeof *t->enclosing);
    t->generated = calloc(t->count + 1u, sizeof *t->generated);
    t->excluded = calloc(t->count + 1u, sizeof *t->excluded);
    if (t->enclosing == NULL || t->generated == NULL || t->excluded == NULL)
        return ILHEAP_ENOMEM;
    for (uint32_t rid = 1; rid <= t->count; rid++) {
        ilheap_pe_typedef_t td;
        const char *name;
        ilheap_status_t st = ilheap_pe_typedef(pe, rid, &td, error);
        if (st == ILHEAP_OK)
            st = ilheap_pe_string(pe, td.name, &name, NULL, error);
        if (st == ILHEAP_OK)
            st = ilheap_pe_enclosing_type(pe, rid, &t->enclosing[rid], error);
        if (st != ILHEAP_OK)
            return st;
        t->generated[rid] = name[0] == '<';
    }
    return ILHEAP_OK;
}

static void free_types(types_t *t)
{
    free(t->enclosing);
    free(t->generated);
    free(t->excluded);
}

/* True when type rid or one that encloses it is excluded. */
static bool type_excluded(const types_t *t, uint32_t rid)
{
    for (int depth = 0; rid != 0 && rid <= t->count && depth < MAX_NESTING; depth++) {
        if (t->excluded[rid])
            return true;
        rid = t->enclosing[rid];
    }
    return false;
}

/* The type the developer wrote that holds type rid: rid itself, or the
 * innermost enclosing type whose name is not the compiler's. */
static uint32_t user_type_of(const types_t *t, uint32_t rid)
{
    uint32_t r = rid;
    for (int depth = 0; r != 0 && t->generated[r] && t->enclosing[r] != 0 && depth < MAX_NESTING; depth++)
        r = t->enclosing[r];
    return r != 0 ? r : rid;
}

/* Marks property rid's getter and setter (method rids) in marks. */
static ilheap_status_t mark_accessors(const ilheap_pe_t *pe, uint32_t rid, bool *marks, ilheap_pe_error_t *error)
{
    ilheap_pe_property_t p;
    ilheap_status_t st = ilheap_pe_property(pe, rid, &p, error);
    if (st == ILHEAP_OK && p.getter != 0)
        marks[p.getter & 0xFFFFFF] = true;
    if (st == ILHEAP_OK && p.setter != 0)
        marks[p.setter & 0xFFFFFF] = true;
    return st;
}

/* The attributes: exclusions (assembly, types, methods, properties' accessors),
 * [CompilerGenerated] methods, the test-framework rule. */
static ilheap_status_t read_attributes(cov_members_t *m, types_t *t, bool *excluded, bool *generated_code,
                                       const ilheap_pe_t *pe, const cov_filters_t *f, ilheap_pe_error_t *error)
{
    for (uint32_t rid = 1; rid <= ilheap_pe_attribute_count(pe); rid++) {
        ilheap_pe_attribute_t a;
        ilheap_status_t st = ilheap_pe_attribute(pe, rid, &a, error);
        if (st != ILHEAP_OK)
            return st;
        uint32_t table = a.parent >> 24, row = a.parent & 0xFFFFFF;
        for (size_t i = 0; i < sizeof test_namespaces / sizeof *test_namespaces && !m->test_assembly; i++)
            if (strcmp(a.type_namespace, test_namespaces[i]) == 0) {
                m->test_assembly = true;
                m->test_reason = test_namespaces[i];
            }
        bool compiler = strcmp(a.type_namespace, "System.Runtime.CompilerServices") == 0 &&
                        strcmp(a.type_name, "CompilerGeneratedAttribute") == 0;
        if (compiler && table == 0x06 && row <= m->count)
            generated_code[row] = true;
        if (table == 0x06 && row <= m->count && strcmp(a.type_name, "DoesNotReturnAttribute") == 0 &&
            strcmp(a.type_namespace, "System.Diagnostics.CodeAnalysis") == 0)
            m->flags[row] |= COV_MEMBER_NO_RETURN;
        if (!excluding_attribute(f, a.type_namespace, a.type_name))
            continue;
        if (table == 0x20)
            m->assembly_excluded = true;
        else if (table == 0x02 && row <= t->count)
            /* a compiler-made type (a state machine, a closure) is not left out
             * for the compiler's own marks, even when they are named */
            t->excluded[row] = !(t->generated[row] && (compiler || strcmp(a.type_name, "GeneratedCodeAttribute") == 0));
        else if (table == 0x06 && row <= m->count)
            excluded[row] = true;
        else if (table == 0x17 && (st = mark_accessors(pe, row, excluded, error)) != ILHEAP_OK)
            return st;
    }
    return ILHEAP_OK;
}

/* The method named `name` in type `type` that is not itself compiler-made
 * (the first in token order: overloads share a name). 0 when none. */
static uint32_t find_method(const ilheap_pe_t *pe, const uint32_t *owner, uint32_t count, uint32_t type,
                            const char *name)
{
    for (uint32_t rid = 1; rid <= count; rid++) {
        const char *n;
        if (owner[rid] == type && ilheap_pe_method_name(pe, rid, &n, NULL) == ILHEAP_OK && strcmp(n, name) == 0)
            return rid;
    }
    return 0;
}

/* user_type and user_method of method rid, and whether it is compiler-made. */
static void attribute_method(cov_members_t *m, const types_t *t, const uint32_t *owner, const ilheap_pe_t *pe,
                             uint32_t rid)
{
    uint32_t type = owner[rid];
    const char *name = "";
    char user[512];
    m->user_type[rid] = type != 0 ? user_type_of(t, type) : 0;
    m->user_method[rid] = rid;
    ilheap_pe_method_name(pe, rid, &name, NULL);
    bool found = user_name_of(name, user, sizeof user); /* <Main>b__0_0, <Main>g__Local|0_0 */
    if (!found && type != 0 && t->generated[type]) {
        /* a state machine's methods: <Run>d__3.MoveNext */
        ilheap_pe_typedef_t td;
        const char *tname = "";
        if (ilheap_pe_typedef(pe, type, &td, NULL) == ILHEAP_OK)
            ilheap_pe_string(pe, td.name, &tname, NULL, NULL);
        found = user_name_of(tname, user, sizeof user);
    }
    if (!found || m->user_type[rid] == 0)
        return;
    uint32_t target = find_method(pe, owner, m->count, m->user_type[rid], user);
    if (target != 0 && target != rid) {
        m->user_method[rid] = target;
        m->flags[rid] |= COV_MEMBER_GENERATED;
    }
}

/* Owner type of every method, and the methods that are property accessors. */
static ilheap_status_t owners_and_accessors(uint32_t *owner, bool *accessor, uint32_t count, const ilheap_pe_t *pe,
                                            ilheap_pe_error_t *error)
{
    for (uint32_t rid = 1; rid <= count; rid++) {
        ilheap_status_t st = ilheap_pe_method_owner(pe, rid, &owner[rid], error);
        if (st != ILHEAP_OK)
            return st;
    }
    for (uint32_t rid = 1; rid <= ilheap_pe_property_count(pe); rid++) {
        ilheap_status_t st = mark_accessors(pe, rid, accessor, error);
        if (st != ILHEAP_OK)
            return st;
    }
    return ILHEAP_OK;
}

/* The test-assembly rule's second half: Microsoft.NET.Test.Sdk's generated
 * entry point, a global type AutoGeneratedProgram. */
static bool has_test_sdk_program(const ilheap_pe_t *pe, const types_t *t)
{
    for (uint32_t rid = 1; rid <= t->count; rid++) {
        ilheap_pe_typedef_t td;
        const char *name, *ns;
        if (ilheap_pe_typedef(pe, rid, &td, NULL) == ILHEAP_OK &&
            ilheap_pe_string(pe, td.name, &name, NULL, NULL) == ILHEAP_OK &&
            ilheap_pe_string(pe, td.namespace_, &ns, NULL, NULL) == ILHEAP_OK && ns[0] == 0 &&
            strcmp(name, "AutoGeneratedProgram") == 0)
            return true;
    }
    return false;
}

ilheap_status_t cov_members_read(cov_members_t *m, const ilheap_pe_t *pe, const cov_filters_t *f,
                                 ilheap_pe_error_t *error)
{
    memset(m, 0, sizeof *m);
    types_t t = {0};
    m->count = ilheap_pe_method_count(pe);
    m->user_type = calloc(m->count + 1u, sizeof *m->user_type);
    m->user_method = calloc(m->count + 1u, sizeof *m->user_method);
    m->flags = calloc(m->count + 1u, sizeof *m->flags);
    uint32_t *owner = calloc(m->count + 1u, sizeof *owner);
    bool *excluded = calloc(m->count + 1u, sizeof *excluded), *generated_code = calloc(m->count + 1u, 1),
         *accessor = calloc(m->count + 1u, sizeof *accessor);
    ilheap_status_t st = ILHEAP_ENOMEM;
    if (m->user_type != NULL && m->user_method != NULL && m->flags != NULL && owner != NULL && excluded != NULL &&
        generated_code != NULL && accessor != NULL && (st = read_types(&t, pe, error)) == ILHEAP_OK &&
        (st = owners_and_accessors(owner, accessor, m->count, pe, error)) == ILHEAP_OK)
        st = read_attributes(m, &t, excluded, generated_code, pe, f, error);
    if (st == ILHEAP_OK && !m->test_assembly && has_test_sdk_program(pe, &t)) {
        m->test_assembly = true;
        m->test_reason = "Microsoft.NET.Test.Sdk";
    }
    for (uint32_t rid = 1; st == ILHEAP_OK && rid <= m->count; rid++)
        attribute_method(m, &t, owner, pe, rid);
    for (uint32_t rid = 1; st == ILHEAP_OK && rid <= m->count; rid++) {
        uint32_t user = m->user_method[rid];
        if (excluded[rid] || excluded[user] || type_excluded(&t, owner[rid]) || type_excluded(&t, owner[user]) ||
            (f != NULL && f->skip_auto_props && accessor[rid] && generated_code[rid]))
            m->flags[rid] |= COV_MEMBER_EXCLUDED;
    }
    free(owner);
    free(excluded);
    free(generated_code);
    free(accessor);
    free_types(&t);
    if (st != ILHEAP_OK)
        cov_members_free(m);
    return st;
}

void cov_members_free(cov_members_t *m)
{
    free(m->user_type);
    free(m->user_method);
    free(m->flags);
    memset(m, 0, sizeof *m);
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* glob[0..n) against all of s: a double star any run, `*` a run without a slash, `?` one
 * character but '/'. Backtracking bounded by the lengths (paths are short). */
static bool glob(const char *g, size_t n, const char *s)
{
    if (n == 0)
        return *s == 0;
    if (g[0] == '*') {
        bool deep = n > 1 && g[1] == '*';
        size_t skip = deep ? 2 : 1;
        if (deep && n > 2 && g[2] == '/' && glob(g + 3, n - 3, s)) /* a double star and slash: also no directory */
            return true;
        for (const char *p = s;; p++) {
            if (glob(g + skip, n - skip, p))
                return true;
            if (*p == 0 || (!deep && *p == '/'))
                return false;
        }
    }
    if (*s == 0 || (g[0] == '?' ? *s == '/' : lower(g[0]) != lower(*s)))
        return false;
    return glob(g + 1, n - 1, s + 1);
}

bool cov_path_glob_match(const char *globs, const char *path)
{
    while (path[0] == '/')
        path++;
    while (globs != NULL && *globs != 0) {
        const char *end = strchr(globs, ',');
        size_t n = end != NULL ? (size_t)(end - globs) : strlen(globs);
        const char *g = globs;
        while (n > 0 && (g[0] == ' ' || g[0] == '/'))
            g++, n--;
        while (n > 0 && g[n - 1] == ' ')
            n--;
        if (n != 0 && glob(g, n, path))
            return true;
        globs = end != NULL ? end + 1 : NULL;
    }
    return false;
}
