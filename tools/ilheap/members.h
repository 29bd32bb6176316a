/* What the developer wrote, per method of a module: the type and method that
 * compiler-made code belongs to (lambdas, local functions, iterators, async
 * state machines are folded into the method that holds them), and which
 * methods the coverage filters leave out ([ExcludeFromCodeCoverage] and
 * --exclude-by-attribute on the assembly, a type, a method or a property;
 * --skip-auto-props), and whether the assembly is a test assembly. The rules
 * are in docs/coverage.md ("Filters", "Compiler-made code"). */
#ifndef ILHEAP_TOOLS_MEMBERS_H
#define ILHEAP_TOOLS_MEMBERS_H

#include "ilheap/pe.h"

#include <stdbool.h>
#include <stdint.h>

/* The filters of `ilheap cover` that look inside a module. */
typedef struct cov_filters {
    const char *exclude_by_attribute; /* attribute names, comma-separated; NULL: the defaults only */
    const char *exclude_by_file;      /* source path globs, comma-separated; NULL: none */
    bool skip_auto_props;             /* leave out compiler-made property accessors */
} cov_filters_t;

enum {
    COV_MEMBER_EXCLUDED = 1,  /* left out by an attribute (its own, its type's, its property's, its owner's) */
    COV_MEMBER_GENERATED = 2, /* compiler-made code folded into user_method */
    COV_MEMBER_NO_RETURN = 4, /* [DoesNotReturn]: a call to it never comes back */
};

typedef struct cov_members {
    uint32_t count;        /* MethodDef rows */
    uint32_t *user_type;   /* by method rid: the TypeDef rid the developer wrote */
    uint32_t *user_method; /* by method rid: the MethodDef rid the developer wrote */
    uint8_t *flags;        /* by method rid: COV_MEMBER_* */
    bool assembly_excluded; /* an exclusion attribute on the assembly */
    bool test_assembly;     /* uses a test framework (docs/coverage.md) */
    const char *test_reason; /* what made it one (static text or the image's strings) */
} cov_members_t;

/* Reads *m from the image. ILHEAP_OK, ILHEAP_ENOMEM, or a PE status from a
 * malformed row (*error says where; *m is then freed). */
ilheap_status_t cov_members_read(cov_members_t *m, const ilheap_pe_t *pe, const cov_filters_t *filters,
                                 ilheap_pe_error_t *error);
void cov_members_free(cov_members_t *m);

/* True when `path` matches one of the comma-separated globs (`**` any run,
 * `*` and `?` within one path segment, ASCII case-insensitive; a leading
 * '/' of either side is ignored). */
bool cov_path_glob_match(const char *globs, const char *path);

#endif
