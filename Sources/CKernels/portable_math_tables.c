// PortableMath's tables, embedded from portable_math_tables.bin (see vlsae_portable_math.h): the
// file holds IEEE-754 bit patterns, little-endian, exp (256 doubles), log (273), sin/cos (208),
// then the 20 words of 2/π. `#embed` (C23) copies the bytes in at compile time, so the values are
// data, exact to the bit, and nothing is read at run time.
#include "vlsae_portable_math.h"

#pragma clang diagnostic ignored "-Wc23-extensions"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "portable_math_tables.bin is little-endian");

enum { exp_count = 256, log_count = 273, sincos_count = 208, double_count = 737, word_count = 20 };
enum { table_bytes = 8 * (double_count + word_count) };

// A file of another length than the layout above fails the build (a short one would otherwise
// leave zeros in the union).
_Static_assert(sizeof((const unsigned char[]){
#embed "portable_math_tables.bin"
               }) == table_bytes,
               "portable_math_tables.bin does not match the table layout");

static const union {
    unsigned char bytes[table_bytes];
    struct {
        double doubles[double_count];
        uint64_t words[word_count];
    } values;
} tables = {.bytes = {
#embed "portable_math_tables.bin"
            }};

const double *const vlsae_pm_exp_table = tables.values.doubles;
const double *const vlsae_pm_log_table = tables.values.doubles + exp_count;
const double *const vlsae_pm_sincos_table = tables.values.doubles + exp_count + log_count;
const uint64_t *const vlsae_pm_two_over_pi_bits = tables.values.words;
