// The system libjpeg (libjpeg-turbo, package libjpeg-dev) for Swift, with two wrappers that
// catch libjpeg's errors. libjpeg reports a fatal error by calling error_exit, which by default
// exits the process; the usual replacement longjmps back to the caller, and Swift can neither call
// setjmp nor be unwound through, so the setjmp lives here, in C, and the wrappers return 0 with a
// message instead. Warnings (such as a truncated file, which libjpeg fills with grey) are
// counted and reported too, so a caller can treat a damaged image as unreadable.
#ifndef VLSAE_CJPEG_SHIM_H
#define VLSAE_CJPEG_SHIM_H

#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

struct vlsae_jpeg_error {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

static void vlsae_jpeg_error_exit(j_common_ptr info) {
    struct vlsae_jpeg_error *e = (struct vlsae_jpeg_error *)info->err;
    (*info->err->format_message)(info, e->message);
    longjmp(e->jump, 1);
}

static void vlsae_jpeg_output_message(j_common_ptr info) {
    // Warnings are counted in num_warnings; nothing is printed.
    (void)info;
}

/// Sets up `e` to longjmp to `e->jump` on a fatal error and to count warnings silently.
static inline struct jpeg_error_mgr *vlsae_jpeg_errors(struct vlsae_jpeg_error *e) {
    memset(e, 0, sizeof *e);
    jpeg_std_error(&e->mgr);
    e->mgr.error_exit = vlsae_jpeg_error_exit;
    e->mgr.output_message = vlsae_jpeg_output_message;
    return &e->mgr;
}

/// After a fatal error: copies its text into `message` (JMSG_LENGTH_MAX bytes), releases the
/// (de)compressor and `buffer`, and returns 0, the wrappers' failure value.
static inline int vlsae_jpeg_fail(const struct vlsae_jpeg_error *e, j_common_ptr info, void *buffer,
                                  char *message) {
    strncpy(message, e->message, JMSG_LENGTH_MAX - 1);
    message[JMSG_LENGTH_MAX - 1] = 0;
    jpeg_destroy(info);
    free(buffer);
    return 0;
}

/// Decodes a JPEG held in memory to 8-bit RGB. With min_side > 0 the image is scaled down by the
/// largest of 1/2, 1/4, 1/8 that keeps both sides at least min_side (libjpeg scales during the inverse DCT, which is cheap),
/// and refused when its full size exceeds max_pixels. On success returns 1 and sets *out (free it
/// with free), *width, *height and *warnings; on failure returns 0 with a message in message (at
/// least JMSG_LENGTH_MAX bytes).
static inline int vlsae_jpeg_decode(const unsigned char *data, unsigned long size, int min_side,
                                    unsigned long max_pixels, unsigned char **out, int *width,
                                    int *height, long *warnings, char *message) {
    struct jpeg_decompress_struct info;
    struct vlsae_jpeg_error err;
    unsigned char *volatile pixels = NULL;
    *out = NULL;
    info.err = vlsae_jpeg_errors(&err);
    if (setjmp(err.jump)) return vlsae_jpeg_fail(&err, (j_common_ptr)&info, pixels, message);
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, size);
    jpeg_read_header(&info, TRUE);
    if (info.image_width == 0 || info.image_height == 0 ||
        (unsigned long)info.image_width > max_pixels / info.image_height) {
        snprintf(message, JMSG_LENGTH_MAX, "image size %ux%u is out of range", info.image_width,
                 info.image_height);
        jpeg_destroy_decompress(&info);
        return 0;
    }
    info.out_color_space = JCS_RGB;
    info.scale_num = 1;
    info.scale_denom = 1;
    while (min_side > 0 && info.scale_denom < 8 && (long)info.image_width / (long)(info.scale_denom * 2) >= min_side &&
           (long)info.image_height / (long)(info.scale_denom * 2) >= min_side) {
        info.scale_denom *= 2;
    }
    jpeg_start_decompress(&info);
    size_t stride = (size_t)info.output_width * 3;
    pixels = (unsigned char *)malloc(stride * info.output_height);
    if (pixels == NULL) {
        snprintf(message, JMSG_LENGTH_MAX, "out of memory");
        jpeg_destroy_decompress(&info);
        return 0;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    *width = (int)info.output_width;
    *height = (int)info.output_height;
    *warnings = err.mgr.num_warnings;
    *out = pixels;
    jpeg_destroy_decompress(&info);
    return 1;
}

/// Encodes 8-bit RGB rows (stride width * 3) as a baseline JPEG of the given quality (1–100) with
/// no metadata beyond the JFIF header. On success returns 1 and sets *out (free it with free) and
/// *out_size; on failure returns 0 with a message.
static inline int vlsae_jpeg_encode(const unsigned char *rgb, int width, int height, int quality,
                                    unsigned char **out, unsigned long *out_size, char *message) {
    struct jpeg_compress_struct info;
    struct vlsae_jpeg_error err;
    unsigned char *buffer = NULL;
    unsigned long buffer_size = 0;
    info.err = vlsae_jpeg_errors(&err);
    if (setjmp(err.jump)) return vlsae_jpeg_fail(&err, (j_common_ptr)&info, buffer, message);
    jpeg_create_compress(&info);
    jpeg_mem_dest(&info, &buffer, &buffer_size);
    info.image_width = (JDIMENSION)width;
    info.image_height = (JDIMENSION)height;
    info.input_components = 3;
    info.in_color_space = JCS_RGB;
    jpeg_set_defaults(&info);
    // The exact integer DCT: the same coefficients from every SIMD path of libjpeg-turbo.
    info.dct_method = JDCT_ISLOW;
    jpeg_set_quality(&info, quality, TRUE);
    jpeg_start_compress(&info, TRUE);
    while (info.next_scanline < info.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)info.next_scanline * (size_t)width * 3);
        jpeg_write_scanlines(&info, &row, 1);
    }
    jpeg_finish_compress(&info);
    jpeg_destroy_compress(&info);
    *out = buffer;
    *out_size = buffer_size;
    return 1;
}

#endif
