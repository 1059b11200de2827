# cmake -DIN=file.bin -DOUT=file.c -DNAME=symbol -P bin2c.cmake: embed a binary file as a C array.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "/* Generated from ${IN} by scripts/bin2c.cmake. */\n#include <stddef.h>\n"
  "extern const unsigned char ${NAME}[];\nextern const size_t ${NAME}_len;\n"
  "const unsigned char ${NAME}[] = {${bytes}};\nconst size_t ${NAME}_len = sizeof(${NAME});\n")
