# Install rules and the exported CMake package: find_package(shmrec) gives shmrec::runtime,
# shmrec::gen and shmrec_add_schema().
include(CMakePackageConfigHelpers)

set(SHMREC_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/shmrec")

set(_shmrec_installed shmrec_runtime shmrec-gen)
if(TARGET shmrec_tool)
    list(APPEND _shmrec_installed shmrec_tool)
endif()
install(TARGETS ${_shmrec_installed}
    EXPORT shmrecTargets
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY runtime/include/shmrec DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT shmrecTargets NAMESPACE shmrec:: DESTINATION ${SHMREC_INSTALL_CMAKEDIR})

configure_package_config_file(cmake/shmrecConfig.cmake.in
    "${CMAKE_CURRENT_BINARY_DIR}/shmrecConfig.cmake"
    INSTALL_DESTINATION ${SHMREC_INSTALL_CMAKEDIR})
write_basic_package_version_file("${CMAKE_CURRENT_BINARY_DIR}/shmrecConfigVersion.cmake"
    COMPATIBILITY SameMajorVersion)
install(FILES
    "${CMAKE_CURRENT_BINARY_DIR}/shmrecConfig.cmake"
    "${CMAKE_CURRENT_BINARY_DIR}/shmrecConfigVersion.cmake"
    cmake/ShmrecAddSchema.cmake
    DESTINATION ${SHMREC_INSTALL_CMAKEDIR})
