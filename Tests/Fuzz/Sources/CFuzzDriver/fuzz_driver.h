// libFuzzer's entry for programs with their own main (compiler-rt FuzzerInterface.h, LLVM 11 and later).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
