/*
 * wallet: GET /api/wallet, POST /api/wallet/charge,
 * GET /api/wallet/transactions.
 */
#include "ticket.h"

TK_PROGRAM(TK_PROG_WALLET)
