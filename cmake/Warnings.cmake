# spaces_set_warnings(<target>): the project's warning set; -Werror with
# SPACES_WERROR=ON (CI). C sources get the C subset.
function(spaces_set_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wcast-align
    -Wformat=2 -Wimplicit-fallthrough -Wdouble-promotion
    $<$<COMPILE_LANGUAGE:CXX>:-Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual>
    $<$<COMPILE_LANGUAGE:C>:-Wstrict-prototypes -Wmissing-prototypes>)
  if(SPACES_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
