# Cross build for 64-bit Arm Linux with Debian's cross toolchain (crossbuild-essential-arm64) and
# multiarch arm64 libraries (libhwy-dev:arm64, libgtest-dev:arm64); see docs/install.md.
#   cmake -S . -B build-aarch64 --toolchain cmake/toolchains/aarch64-linux-gnu.cmake -DRT3_RUNTIME_ONLY=ON
# Tests run under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR), e.g. `ctest` in that tree.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Multiarch: arm64 libraries live in /usr/lib/aarch64-linux-gnu, the headers (Highway's, the JSON
# ones) in /usr/include are shared by every architecture. Never pick up an x86 library.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
# No `-L /usr/aarch64-linux-gnu`: that runs the cross package's ld.so (libc6-arm64-cross) with the
# multiarch libc.so.6 (libc6:arm64, pulled in by libhwy-dev:arm64), two different glibc builds
# whose private interface differs: every pthread_create then spins forever in the loader's lock.
# Without -L the multiarch loader /lib/ld-linux-aarch64.so.1 and its own libc are used.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64)
