/* Shared test helpers live in this folder. */
int rmmemu_test_helpers_placeholder;
