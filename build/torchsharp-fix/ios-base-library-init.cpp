// Defines std::ios_base_library_init(), the one GCC 13 (GLIBCXX_3.4.32) symbol that
// TorchSharp 0.107.0's libLibTorchSharp.so needs. GCC 13 emits a call to it from every
// translation unit that includes <iostream>; all it must do is make sure the standard
// streams are initialised, which constructing a static std::ios_base::Init does.
#include <ios>

namespace std {
__attribute__((visibility("default"))) void ios_base_library_init() {
    static ios_base::Init init;
}
}
