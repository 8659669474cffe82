// The files of `llmc serve`'s web page (runtime/serve/web/), compiled into
// the binary by cmake/EmbedFiles.cmake so that the server never reads a
// path built from a request.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llmc::serve {

struct WebAsset {
  const char *path; // the URL path, e.g. "/" or "/app.js"
  const char *content_type;
  std::string_view body;
};

const std::vector<WebAsset> &web_assets();

/// The asset served at `path`, or nullptr.
inline const WebAsset *find_web_asset(const std::string &path) {
  for (const WebAsset &a : web_assets())
    if (path == a.path)
      return &a;
  return nullptr;
}

} // namespace llmc::serve
