# cmake -DINPUT=Fallback.dll -DOUTPUT=fallback_assembly.c -P embed.cmake
# Writes the bytes of INPUT as the C array tool_fallback_assembly (tools/ilheap/tool.h).
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" digits)
math(EXPR size "${digits} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUTPUT} "/* Generated from ${INPUT} by embed.cmake: do not edit. */\n#include <stddef.h>\n\n"
     "extern const unsigned char tool_fallback_assembly[];\nextern const size_t tool_fallback_assembly_size;\n"
     "const unsigned char tool_fallback_assembly[${size}] = {\n${bytes}\n};\n"
     "const size_t tool_fallback_assembly_size = ${size};\n")
