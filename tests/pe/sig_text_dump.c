/* sig_text_dump STYLE FILE...: every MethodDef's signature text
 * (ilheap_pe_signature_text with style STYLE, a number), one line
 * "TOKEN TEXT" each, "# FILE" before each file: ilheap's side of
 * test_sig_cecil.sh. Exit 1 when a file does not open or a signature fails. */
#include "ilheap/pe.h"

#include "assemblies.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: sig_text_dump STYLE FILE...\n");
        return 2;
    }
    unsigned style = (unsigned)strtoul(argv[1], NULL, 0);
    int rc = 0;
    for (int i = 2; i < argc; i++) {
        size_t size;
        uint8_t *data = pe_test_read_file(argv[i], &size);
        ilheap_pe_t *pe;
        ilheap_pe_error_t err;
        printf("# %s\n", argv[i]);
        if (data == NULL || ilheap_pe_open(data, size, &pe, &err) != ILHEAP_OK) {
            fprintf(stderr, "sig_text_dump: %s does not open\n", argv[i]);
            free(data);
            rc = 1;
            continue;
        }
        for (uint32_t rid = 1; rid <= ilheap_pe_method_count(pe); rid++) {
            char text[16384];
            if (ilheap_pe_signature_text(pe, 0x06000000u | rid, style, text, sizeof text, NULL, &err) != ILHEAP_OK) {
                printf("0x%08x ERROR %s\n", 0x06000000u | rid, err.message);
                rc = 1;
            } else {
                printf("0x%08x %s\n", 0x06000000u | rid, text);
            }
        }
        ilheap_pe_close(pe);
        free(data);
    }
    return rc;
}
