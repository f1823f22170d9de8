# Runs `tessera check rules.yaml` inside CASE_DIR and compares what it prints
# on stderr (every error, then the summary line) with the file `expected`
# (exact, trailing newline ignored), and the exit status with 1.
execute_process(COMMAND ${TESSERA} check rules.yaml
  WORKING_DIRECTORY ${CASE_DIR}
  RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out TIMEOUT 20)
file(READ ${CASE_DIR}/expected want)
string(STRIP "${want}" want)
string(STRIP "${err}" got)
if(NOT rc EQUAL 1)
  message(FATAL_ERROR "expected exit status 1, got '${rc}'\nstderr: ${err}\nstdout: ${out}")
endif()
if(NOT got STREQUAL want)
  message(FATAL_ERROR "diagnostic differs\n  expected: ${want}\n  got:      ${got}")
endif()
