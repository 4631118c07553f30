# Warnings are errors on project code only; third-party headers come in as SYSTEM includes.
add_library(callbridge_warnings INTERFACE)
target_compile_options(callbridge_warnings INTERFACE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor)
