/* Writes the hand-built seed images of the PE fuzzer to a directory:
 *   make_pe_corpus DIR
 * (tests/corpus/pe holds its output plus a few small real assemblies). */
#include "pe_builder.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_pe_corpus DIR\n");
        return 2;
    }
    for (int variant = 0; variant < 16; variant++) {
        pe_spec_t spec = {.typedefs = 3, .methods = 12, .typerefs = 2, .params = 3, .custom_attributes = 2};
        spec.pe32_plus = variant & 1;
        spec.uncompressed = variant & 2;
        spec.extra_data = variant & 4;
        spec.method_ptr = (variant & 8) && spec.uncompressed;
        spec.big_guid = variant & 8;
        pe_image_t img;
        char path[512];
        snprintf(path, sizeof path, "%s/built-%s-%s%s%s%s.dll", argv[1], spec.pe32_plus ? "pe32plus" : "pe32",
                 spec.uncompressed ? "uncompressed" : "compressed", spec.extra_data ? "-extra" : "",
                 spec.method_ptr ? "-methodptr" : "", spec.big_guid ? "-bigguid" : "");
        FILE *f;
        if (pe_build(&spec, &img) != 0 || (f = fopen(path, "wb")) == NULL) {
            fprintf(stderr, "make_pe_corpus: cannot write %s\n", path);
            return 1;
        }
        fwrite(img.data, 1, img.size, f);
        fclose(f);
        pe_image_free(&img);
    }
    return 0;
}
