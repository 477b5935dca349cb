# The API reference: `cmake --build <build> --target docs` runs Doxygen over the public headers (their ///
# comments) and the pages of docs/ with getting_started.md as the main page, into <build>/docs/html. Any Doxygen warning fails
# the target (CI builds it). Skipped, with a message, when Doxygen is not installed.
find_package(Doxygen QUIET)
if(NOT DOXYGEN_FOUND)
  message(STATUS "pnpdist: Doxygen not found, no `docs` target (apt-get install doxygen)")
  return()
endif()
set(DOXYGEN_PROJECT_NAME pnpdist)
set(DOXYGEN_PROJECT_BRIEF "Distributed Plug-and-Play reconstruction of large imaging inverse problems")
set(DOXYGEN_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/docs)
set(DOXYGEN_USE_MDFILE_AS_MAINPAGE ${PROJECT_SOURCE_DIR}/docs/getting_started.md)
set(DOXYGEN_STRIP_FROM_PATH ${PROJECT_SOURCE_DIR}/include)
set(DOXYGEN_STRIP_FROM_INC_PATH ${PROJECT_SOURCE_DIR}/include)
set(DOXYGEN_FILE_PATTERNS *.hpp *.md)
set(DOXYGEN_EXTRACT_ALL YES)
set(DOXYGEN_EXTRACT_STATIC YES)
set(DOXYGEN_JAVADOC_AUTOBRIEF YES)
set(DOXYGEN_WARN_IF_UNDOCUMENTED NO)
set(DOXYGEN_WARN_AS_ERROR FAIL_ON_WARNINGS)
set(DOXYGEN_HAVE_DOT NO)
set(DOXYGEN_GENERATE_LATEX NO)
set(DOXYGEN_QUIET YES)
set(DOXYGEN_EXCLUDE_SYMBOLS detail)
# docs/hardening.md quotes crafted inputs verbatim (unpaired quotes, backslashes, shell syntax) that Doxygen's
# Markdown reads as markup; it stays a plain Markdown page, named (not linked) in docs/architecture.md.
set(DOXYGEN_EXCLUDE ${PROJECT_SOURCE_DIR}/docs/hardening.md)
doxygen_add_docs(docs ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/docs
                 WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
                 COMMENT "API reference (Doxygen) -> ${CMAKE_BINARY_DIR}/docs/html/index.html")
