// Image decoding for torch.io: PNG through libpng, JPEG through libjpeg(-turbo), from a byte buffer to a
// uint8 tensor [C, H, W] (like torchvision.io.decode_png / decode_jpeg with ImageReadMode.UNCHANGED).
//
// Both libraries report errors by longjmp. The functions that call setjmp below hold no object with a
// destructor and change no local that is read after the jump, so jumping out of them is well defined; the
// tensor (a C++ object) is allocated between the two protected phases, outside them. Corrupt or truncated
// data therefore becomes an error message, never a crash. libjpeg's warnings (data it would silently patch
// up, e.g. a bad Huffman code or bytes missing at the end) are treated as errors too: a cache built from a
// damaged file must not quietly contain a grey half-image.
#include "common.h"
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <png.h>
#include <jpeglib.h>
#include <jerror.h>

namespace {

// Refuse headers that claim more than this many bytes of pixels (a corrupt header must not allocate GBs).
constexpr uint64_t kMaxPixelBytes = uint64_t(1) << 30;
constexpr uint32_t kMaxSide = 1u << 16;

// ---------------------------------------------------------------- PNG

struct PngReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
  png_structp png;
  png_infop info;
  char error[256];
};

void png_read_memory(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "unexpected end of data (the PNG is truncated)");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

void png_on_error(png_structp png, png_const_charp message) {
  auto* r = static_cast<PngReader*>(png_get_error_ptr(png));
  std::snprintf(r->error, sizeof r->error, "%s", message ? message : "unknown libpng error");
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}

// Reads the header and asks libpng for 8-bit channels: 1-, 2- and 4-bit greyscale scaled to 0..255
// (so a 1-bit Omniglot PNG gives 0 and 255), palettes expanded to RGB, transparency to an alpha channel,
// 16-bit reduced to 8. Returns false with r->error set on failure.
bool png_read_header(PngReader* r, uint32_t* width, uint32_t* height, int* channels, size_t* rowbytes) {
  if (setjmp(png_jmpbuf(r->png))) return false;
  png_set_read_fn(r->png, r, png_read_memory);
  png_set_user_limits(r->png, kMaxSide, kMaxSide);
  png_read_info(r->png, r->info);
  const int color = png_get_color_type(r->png, r->info);
  const int depth = png_get_bit_depth(r->png, r->info);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r->png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(r->png);
  if (png_get_valid(r->png, r->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(r->png);
  if (depth == 16) png_set_strip_16(r->png);
  png_set_interlace_handling(r->png);
  png_read_update_info(r->png, r->info);
  *width = png_get_image_width(r->png, r->info);
  *height = png_get_image_height(r->png, r->info);
  *channels = png_get_channels(r->png, r->info);
  *rowbytes = png_get_rowbytes(r->png, r->info);
  return true;
}

bool png_read_pixels(PngReader* r, png_bytep* rows) {
  if (setjmp(png_jmpbuf(r->png))) return false;
  png_read_image(r->png, rows);
  png_read_end(r->png, nullptr);  // reads up to IEND: a damaged tail (checksums, truncation) is an error too
  return true;
}

struct PngGuard {
  PngReader* r;
  ~PngGuard() { png_destroy_read_struct(&r->png, r->info ? &r->info : nullptr, nullptr); }
};

// ---------------------------------------------------------------- JPEG

struct JpegError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_on_error(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  longjmp(e->jump, 1);
}

// msg_level −1 is a warning: libjpeg recovered from corrupt data by guessing. We refuse instead.
void jpeg_on_message(j_common_ptr cinfo, int msg_level) {
  if (msg_level < 0) jpeg_on_error(cinfo);
}

// A source manager over a memory buffer (jpeg_mem_src is not in every libjpeg 6b build). Running out of data
// is an error, not the library's default of inventing an end-of-image marker.
void jpeg_src_init(j_decompress_ptr) {}
boolean jpeg_src_fill(j_decompress_ptr cinfo) {
  ERREXIT(cinfo, JERR_INPUT_EOF);
  return FALSE;
}
void jpeg_src_skip(j_decompress_ptr cinfo, long n) {
  if (n <= 0) return;
  auto* src = cinfo->src;
  if (static_cast<size_t>(n) > src->bytes_in_buffer) ERREXIT(cinfo, JERR_INPUT_EOF);
  src->next_input_byte += n;
  src->bytes_in_buffer -= static_cast<size_t>(n);
}
void jpeg_src_term(j_decompress_ptr) {}

struct JpegReader {
  jpeg_decompress_struct cinfo;
  JpegError err;
  jpeg_source_mgr src;
  bool created;
};

bool jpeg_read_header_and_start(JpegReader* r, const uint8_t* data, size_t size) {
  if (setjmp(r->err.jump)) return false;
  jpeg_create_decompress(&r->cinfo);
  r->created = true;
  r->src.init_source = jpeg_src_init;
  r->src.fill_input_buffer = jpeg_src_fill;
  r->src.skip_input_data = jpeg_src_skip;
  r->src.resync_to_restart = jpeg_resync_to_restart;
  r->src.term_source = jpeg_src_term;
  r->src.next_input_byte = data;
  r->src.bytes_in_buffer = size;
  r->cinfo.src = &r->src;
  jpeg_read_header(&r->cinfo, TRUE);
  switch (r->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: r->cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK:
    case JCS_YCCK: r->cinfo.out_color_space = JCS_CMYK; break;
    default: r->cinfo.out_color_space = JCS_RGB; break;
  }
  jpeg_start_decompress(&r->cinfo);
  return true;
}

bool jpeg_read_pixels(JpegReader* r, uint8_t* dst, size_t rowbytes) {
  if (setjmp(r->err.jump)) return false;
  while (r->cinfo.output_scanline < r->cinfo.output_height) {
    JSAMPROW row = dst + static_cast<size_t>(r->cinfo.output_scanline) * rowbytes;
    jpeg_read_scanlines(&r->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&r->cinfo);
  return true;
}

struct JpegGuard {
  JpegReader* r;
  ~JpegGuard() {
    if (r->created) jpeg_destroy_decompress(&r->cinfo);
  }
};

// [H, W, C] as decoded → [C, H, W]; a copy only when C > 1.
at::Tensor to_chw(const at::Tensor& hwc) { return hwc.permute({2, 0, 1}).contiguous(); }

std::string size_error(uint64_t w, uint64_t h, uint64_t c) {
  return "the header claims " + std::to_string(w) + "x" + std::to_string(h) + "x" + std::to_string(c) +
         " pixels, more than this decoder accepts (corrupt header?)";
}

}  // namespace

// PNG bytes → uint8 [C, H, W], C = 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).
MN_API const char* mn_decode_png(const uint8_t* data, int64_t size, Handle* out) {
  MN_TRY
  TORCH_CHECK(data != nullptr && size > 0, "empty buffer");
  TORCH_CHECK(size >= 8 && png_sig_cmp(data, 0, 8) == 0, "not a PNG file (the 8-byte PNG signature is missing)");
  PngReader r{};
  r.data = data;
  r.size = static_cast<size_t>(size);
  PngGuard guard{&r};
  r.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, png_on_error, png_on_warning);
  TORCH_CHECK(r.png != nullptr, "libpng: out of memory");
  r.info = png_create_info_struct(r.png);
  TORCH_CHECK(r.info != nullptr, "libpng: out of memory");
  uint32_t width = 0, height = 0;
  int channels = 0;
  size_t rowbytes = 0;
  if (!png_read_header(&r, &width, &height, &channels, &rowbytes)) TORCH_CHECK(false, "libpng: ", r.error);
  TORCH_CHECK(uint64_t(width) * height * channels <= kMaxPixelBytes, size_error(width, height, channels));
  TORCH_CHECK(rowbytes == size_t(width) * channels, "libpng: unexpected row size ", rowbytes, " for width ", width,
              " and ", channels, " channels");
  auto hwc = at::empty({int64_t(height), int64_t(width), int64_t(channels)}, at::kByte);
  std::vector<png_bytep> rows(height);
  for (uint32_t y = 0; y < height; y++) rows[y] = hwc.data_ptr<uint8_t>() + size_t(y) * rowbytes;
  if (!png_read_pixels(&r, rows.data())) TORCH_CHECK(false, "libpng: ", r.error);
  *out = mn::box(to_chw(hwc));
  MN_END
}

// JPEG bytes → uint8 [C, H, W], C = 1 (greyscale), 3 (RGB; YCbCr is converted) or 4 (CMYK, as stored).
MN_API const char* mn_decode_jpeg(const uint8_t* data, int64_t size, Handle* out) {
  MN_TRY
  TORCH_CHECK(data != nullptr && size > 0, "empty buffer");
  TORCH_CHECK(size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF,
              "not a JPEG file (it does not start with the SOI marker FF D8 FF)");
  JpegReader r{};
  r.cinfo.err = jpeg_std_error(&r.err.mgr);
  r.err.mgr.error_exit = jpeg_on_error;
  r.err.mgr.emit_message = jpeg_on_message;
  JpegGuard guard{&r};
  if (!jpeg_read_header_and_start(&r, data, static_cast<size_t>(size))) TORCH_CHECK(false, "libjpeg: ", r.err.message);
  const uint64_t w = r.cinfo.output_width, h = r.cinfo.output_height, c = r.cinfo.output_components;
  TORCH_CHECK(w * h * c <= kMaxPixelBytes, size_error(w, h, c));
  auto hwc = at::empty({int64_t(h), int64_t(w), int64_t(c)}, at::kByte);
  if (!jpeg_read_pixels(&r, hwc.data_ptr<uint8_t>(), size_t(w) * c)) TORCH_CHECK(false, "libjpeg: ", r.err.message);
  *out = mn::box(to_chw(hwc));
  MN_END
}
