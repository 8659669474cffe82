# llmc_add_mlir_library(name SOURCES ... [DEPENDS tablegen targets]
#                       [LIBS our libraries] )
#
# A static library of compiler code. It links MLIR and LLVM only through the
# shared libMLIR.so / libLLVM.so: linking any static MLIR library next to the
# dylib would register dialects twice.
function(llmc_add_mlir_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPENDS;LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
  target_link_libraries(${name} PUBLIC ${ARG_LIBS} MLIR LLVM)
endfunction()
