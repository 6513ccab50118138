# Writes the bytes of IN as a C array into OUT (cmake -DIN=F -DOUT=F.c -DNAME=sym -P):
# `const unsigned char NAME[]` (with a terminating NUL, not counted) and
# `const size_t NAME_len`. Used at build time to embed src/server/openapi.json.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}.tmp"
     "/* Generated from ${IN} by scripts/embed.cmake: do not edit. */\n"
     "#include <stddef.h>\n"
     "const unsigned char ${NAME}[] = {\n${bytes}0x00};\n"
     "const size_t ${NAME}_len = ${len};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
