# SPACES_SANITIZE applies to every target of the build, so that the library,
# the tests and spacesc are instrumented together.
if(SPACES_SANITIZE)
  string(REPLACE ";" "," _spaces_san "${SPACES_SANITIZE}")
  add_compile_options(-fsanitize=${_spaces_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${_spaces_san})
  if(_spaces_san MATCHES "address")
    add_compile_definitions(SPACES_ASAN=1)
  endif()
endif()
