# Runs `tessera check rules.yaml` inside CASE_DIR (a tests/rules/lint/<case>)
# and compares what it prints on stderr with the file `expected` (exact;
# surrounding white space ignored; empty for a rule file with no warnings),
# and the exit status with 0: warnings never fail a check.
execute_process(COMMAND ${TESSERA} check rules.yaml
  WORKING_DIRECTORY ${CASE_DIR}
  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out TIMEOUT 20)
file(READ ${CASE_DIR}/expected want)
string(STRIP "${want}" want)
string(STRIP "${err}" got)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "expected exit status 0, got '${rc}'\nstderr: ${err}\nstdout: ${out}")
endif()
if(NOT got STREQUAL want)
  message(FATAL_ERROR "warnings differ\n  expected:\n${want}\n  got:\n${got}")
endif()
