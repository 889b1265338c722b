# Install rules for apps: `cmake --install BUILD [--prefix DIR]` puts
#   lib/librt3.a (+ librt3.so when RT3_BUILD_SHARED), include/rt3/*.h,
#   lib/cmake/rt3/rt3Config.cmake   find_package(rt3): rt3::runtime (shared, else static),
#                                   rt3::runtime_static
#   lib/pkgconfig/rt3.pc            pkg-config rt3 (add --static for librt3.a)
# Only the public API is installed; the internal headers are not (docs/install.md).
include(CMakePackageConfigHelpers)

set(RT3_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/rt3)
set(_rt3_install_targets rt3_runtime)
if(TARGET rt3_runtime_shared)
  list(APPEND _rt3_install_targets rt3_runtime_shared)
endif()
install(TARGETS ${_rt3_install_targets} EXPORT rt3Targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/rt3 DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT rt3Targets NAMESPACE rt3:: DESTINATION ${RT3_INSTALL_CMAKEDIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/rt3Config.cmake.in
  ${CMAKE_BINARY_DIR}/rt3Config.cmake INSTALL_DESTINATION ${RT3_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/rt3ConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)  # 0.x: the ABI may change between minor versions
install(FILES ${CMAKE_BINARY_DIR}/rt3Config.cmake ${CMAKE_BINARY_DIR}/rt3ConfigVersion.cmake
        DESTINATION ${RT3_INSTALL_CMAKEDIR})

# pkg-config: librt3.a needs Highway, pthreads and the C++ runtime at link time (Libs.private);
# librt3.so carries them itself. The prefix is taken from the .pc file's own location, so an
# installed tree can be moved.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(RT3_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  set(RT3_PC_PREFIX "\${pcfiledir}")  # climb from <libdir>/pkgconfig back to the prefix
  string(REGEX MATCHALL "[^/]+" _rt3_parts "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  foreach(_p IN LISTS _rt3_parts)
    string(APPEND RT3_PC_PREFIX "/..")
  endforeach()
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/rt3.pc.in ${CMAKE_BINARY_DIR}/rt3.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/rt3.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
