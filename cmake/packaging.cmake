# The man page tessera(1) and the Debian packages (CPack, DEB generator,
# one package per install component):
#
#   libtessera<SOVERSION>  lib     the shared library (its SONAME and real name)
#   libtessera-dev         dev     header, .so link, static library, pkg-config, CMake package
#   tessera                cli     the command and its man page
#   python3-tessera        python  the `tessera` Python package
#   php-tessera            php     the extension, its mods-available ini, the Tessera\ classes
#
# Versions come from the project and the library target (PROJECT_VERSION,
# the SOVERSION property), never written here.  Depends come from
# dpkg-shlibdeps (what the binaries link) plus what no ELF header says:
# tzdata for every package that holds the library's code, the interpreter
# ABI for the bindings.  `bash .ci/package` configures with TSR_DEB=ON and
# --prefix /usr and runs cpack; docs/packages.md describes the result.

# --- the man page: from `tessera --help`, like docs/cli.md ---------------
find_program(TSR_HELP2MAN help2man)
if(TARGET tessera_cli AND TSR_HELP2MAN)
  set(tsr_man ${PROJECT_BINARY_DIR}/tessera.1.gz)
  add_custom_command(OUTPUT ${tsr_man}
    COMMAND bash ${PROJECT_SOURCE_DIR}/cmake/tessera-man.sh $<TARGET_FILE:tessera_cli> ${tsr_man}
    DEPENDS tessera_cli ${PROJECT_SOURCE_DIR}/cmake/tessera-man.sh
    COMMENT "help2man: tessera.1 from tessera --help"
    VERBATIM)
  add_custom_target(tessera_man ALL DEPENDS ${tsr_man})
  install(FILES ${tsr_man} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT cli)
elseif(TARGET tessera_cli)
  message(STATUS "help2man not found: no man page (apt-get install help2man)")
endif()

option(TSR_DEB "Install what only the Debian packages carry (copyright, changelog, /etc ini)" OFF)

get_target_property(tsr_soversion tessera SOVERSION)
set(TSR_DEB_LIB_PACKAGE libtessera${tsr_soversion})
set(TSR_DEB_MAINTAINER "Tessera maintainers <maintainers@tessera-project.org>" CACHE STRING
    "Maintainer field of the Debian packages")

set(tsr_components lib dev)
set(tsr_pkg_lib ${TSR_DEB_LIB_PACKAGE})
set(tsr_pkg_dev libtessera-dev)
set(tsr_pkg_cli tessera)
set(tsr_pkg_python python3-tessera)
set(tsr_pkg_php php-tessera)
if(TARGET tessera_cli)
  list(APPEND tsr_components cli)
endif()
if(TARGET tessera_python)
  list(APPEND tsr_components python)
  # The extension is built for this interpreter's ABI: 3.X exactly.
  execute_process(COMMAND ${Python3_EXECUTABLE} -c "import sys; print('%d.%d' % sys.version_info[:2])"
                  OUTPUT_VARIABLE tsr_py_version OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REGEX REPLACE "^([0-9]+)\\.([0-9]+)$" "\\1.\\2" tsr_py_version "${tsr_py_version}")
  math(EXPR tsr_py_next "${CMAKE_MATCH_2} + 1")
  set(tsr_py_depends "python3 (>= ${tsr_py_version}), python3 (<< ${CMAKE_MATCH_1}.${tsr_py_next})")
endif()
if(TARGET tessera_php)
  list(APPEND tsr_components php)
  execute_process(COMMAND ${TSR_PHP_CONFIG} --phpapi OUTPUT_VARIABLE tsr_php_api
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  execute_process(COMMAND ${TSR_PHP_CONFIG} --version OUTPUT_VARIABLE tsr_php_version
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  string(REGEX MATCH "^[0-9]+\\.[0-9]+" TSR_PHP_MAJOR_MINOR "${tsr_php_version}")
endif()

# --- what only the packages carry -------------------------------------------
if(TSR_DEB)
  set(tsr_deb_dir ${PROJECT_BINARY_DIR}/debian-files)
  string(TIMESTAMP tsr_deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
  configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/copyright ${tsr_deb_dir}/copyright COPYONLY)
  foreach(c ${tsr_components})
    set(TSR_DEB_PACKAGE ${tsr_pkg_${c}})
    configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/changelog.in ${tsr_deb_dir}/${c}/changelog.Debian)
    execute_process(COMMAND gzip -9nf ${tsr_deb_dir}/${c}/changelog.Debian)
    install(FILES ${tsr_deb_dir}/copyright ${tsr_deb_dir}/${c}/changelog.Debian.gz
            DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${tsr_pkg_${c}} COMPONENT ${c})
  endforeach()
  if(TARGET tessera_php)
    # Enabled by the package's postinst (phpenmod), as Debian's own extensions are.
    install(FILES ${PROJECT_SOURCE_DIR}/cmake/debian/php/tessera.ini
            DESTINATION /etc/php/${TSR_PHP_MAJOR_MINOR}/mods-available COMPONENT php)
    foreach(script postinst postrm)
      configure_file(${PROJECT_SOURCE_DIR}/cmake/debian/php/${script}.in
                     ${tsr_deb_dir}/php/${script} @ONLY
                     FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
                                      GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
    endforeach()
    file(WRITE ${tsr_deb_dir}/php/conffiles
         "/etc/php/${TSR_PHP_MAJOR_MINOR}/mods-available/tessera.ini\n")
  endif()
endif()

# --- CPack ------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tessera)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "Tessera")
set(CPACK_PACKAGE_CONTACT "${TSR_DEB_MAINTAINER}")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://tessera-project.org/")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL ${tsr_components})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# dpkg-shlibdeps finds the in-tree libtessera.so.N here; its package is
# named in the Depends below.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(tsr_version_dep "(= ${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE})")
# Descriptions: the first line is the summary; CPack indents the rest and
# turns empty lines into " .".
set(tsr_long_common
    "Tessera prices tickets and runs loyalty programs from declarative YAML rule\nfiles: ticket categories, discounts and promo codes, points earned and\nredeemed, refunds and offers.  Money is exact and every rule is type-checked\nwhen the file is loaded.\n")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME ${TSR_DEB_LIB_PACKAGE})
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_LIB_PACKAGE_DEPENDS "tzdata")
# ldconfig runs through the trigger (CPack also adds postinst/postrm calls).
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/cmake/debian/triggers)
# A shlibs file for every shared object with a SONAME: the library only.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
set(CPACK_COMPONENT_LIB_DESCRIPTION "pricing and loyalty rules engine for tickets (library)\n${tsr_long_common}\nThis package holds the shared library.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME ${tsr_pkg_dev})
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "${TSR_DEB_LIB_PACKAGE} ${tsr_version_dep}, libyaml-dev, libpcre2-dev, libyajl-dev, pkg-config")
set(CPACK_COMPONENT_DEV_DESCRIPTION "pricing and loyalty rules engine for tickets (development files)\n${tsr_long_common}\nThis package holds the header tessera.h, the static library, the\npkg-config file and the CMake package (find_package(tessera)).")

set(CPACK_DEBIAN_CLI_PACKAGE_NAME ${tsr_pkg_cli})
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_CLI_PACKAGE_DEPENDS "${TSR_DEB_LIB_PACKAGE} ${tsr_version_dep}")
set(CPACK_COMPONENT_CLI_DESCRIPTION "pricing and loyalty rules engine for tickets (command-line tool)\n${tsr_long_common}\nThis package holds the tessera command: check and lint rule files, evaluate\norders, run rule tests, refunds, segments, and diff two rule versions over\nreal orders.")

set(CPACK_DEBIAN_PYTHON_PACKAGE_NAME ${tsr_pkg_python})
set(CPACK_DEBIAN_PYTHON_PACKAGE_SECTION python)
set(CPACK_DEBIAN_PYTHON_PACKAGE_DEPENDS "${tsr_py_depends}, tzdata")
set(CPACK_COMPONENT_PYTHON_DESCRIPTION "pricing and loyalty rules engine for tickets (Python 3 binding)\n${tsr_long_common}\nThis package holds the tessera module for Python 3 (import tessera), with\ntessera.batch for evaluating and diffing JSON Lines partitions.")

set(CPACK_DEBIAN_PHP_PACKAGE_NAME ${tsr_pkg_php})
set(CPACK_DEBIAN_PHP_PACKAGE_SECTION php)
set(CPACK_DEBIAN_PHP_PACKAGE_DEPENDS "phpapi-${tsr_php_api}, php-common, tzdata")
set(CPACK_DEBIAN_PHP_PACKAGE_CONTROL_EXTRA
    ${PROJECT_BINARY_DIR}/debian-files/php/postinst
    ${PROJECT_BINARY_DIR}/debian-files/php/postrm ${PROJECT_BINARY_DIR}/debian-files/php/conffiles)
set(CPACK_DEBIAN_PHP_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_COMPONENT_PHP_DESCRIPTION "pricing and loyalty rules engine for tickets (PHP extension)\n${tsr_long_common}\nThis package holds the tessera extension for PHP ${TSR_PHP_MAJOR_MINOR}, enabled for every SAPI,\nand the Tessera\\\\ classes in /usr/share/php/Tessera (require_once\n'Tessera/autoload.php'), among them Tessera\\\\Bitrix\\\\Basket for Bitrix shops.")

include(CPack)
