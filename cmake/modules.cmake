# wafer_module(NAME SOURCES ... DEPS ...): one static library per src/ folder.
function(wafer_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(wafer_${name} STATIC ${M_SOURCES})
  target_include_directories(wafer_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(wafer_${name} PRIVATE ${WAFER_WARNINGS})
  target_link_libraries(wafer_${name} PUBLIC ${M_DEPS})
endfunction()

# wafer_test(NAME LABEL SOURCES ... DEPS ...): one gtest executable, registered with ctest.
function(wafer_test name label)
  cmake_parse_arguments(T "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_compile_options(${name} PRIVATE ${WAFER_WARNINGS})
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    WAFER_SHARED_DIR="${PROJECT_SOURCE_DIR}/../shared"
    WAFER_BINARY_DIR="${PROJECT_BINARY_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS ${label})
endfunction()
