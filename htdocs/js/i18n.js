// Korean and English text, and the formatting of money, times and durations.
// Korean is the default; the choice is kept in localStorage and <html lang> follows it.

const STRINGS = {
  ko: {
    'app.title': '콘서트 예매',
    'app.skip': '본문으로 건너뛰기',
    'app.loading': '불러오는 중…',
    'nav.label': '주 메뉴',
    'nav.concerts': '공연 목록',
    'nav.wallet': '지갑',
    'lang.label': '언어',
    'user.signedInAs': '{name} 님',
    'user.signOut': '로그아웃',
    'user.signedOut': '로그아웃했습니다. 이 브라우저에서 키를 지웠습니다.',

    'signup.title': '시작하기',
    'signup.intro': '이름을 입력하면 바로 예매를 시작할 수 있습니다. 발급된 키는 이 브라우저에만 저장되며, 로그아웃하면 지워집니다.',
    'signup.name': '이름',
    'signup.nameHelp': '1–64자',
    'signup.submit': '가입하고 시작하기',
    'signup.busy': '가입하는 중…',
    'signup.nameRequired': '이름을 입력해 주세요.',

    'concerts.title': '공연',
    'concerts.intro': '대기열에 들어가면 차례대로 입장해 좌석을 고를 수 있습니다.',
    'concerts.empty': '지금 판매 중인 공연이 없습니다.',
    'concerts.venue': '장소',
    'concerts.waiting': '대기 {n}명',
    'concerts.active': '예매 중 {n}/{max}명',
    'concerts.rules': '좌석 선점 {min}분 · 1인 최대 {n}석',
    'concerts.join': '대기열 들어가기',
    'concerts.joinLabel': '{title} 대기열 들어가기',
    'concerts.resume': '대기열로 돌아가기',
    'concerts.refresh': '새로고침',
    'concerts.updated': '{time} 기준',
    'concerts.state.UPCOMING': '판매 예정',
    'concerts.state.PRE_QUEUE': '사전 대기열',
    'concerts.state.ON_SALE': '판매 중',
    'concerts.state.SOLD_OUT': '매진',
    'concerts.changed': '{title}: {state}',
    'concerts.preQueueIn': '사전 대기열까지 {in}',
    'concerts.drawIn': '순서 추첨까지 {in}',
    'concerts.drawing': '순서를 정하는 중…',
    'concerts.saleAt': '판매 시작 {when}',
    'concerts.joinPre': '사전 대기열 들어가기',
    'concerts.joinPreLabel': '{title} 사전 대기열 들어가기',
    'concerts.proof': '순서 추첨 증명',
    'concerts.proofLabel': '{title} 순서 추첨 증명',

    'queue.title': '대기실',
    'queue.joining': '대기열에 들어가는 중…',
    'queue.position': '내 순서',
    'queue.positionValue': '{n}번째',
    'queue.ahead': '내 앞 대기',
    'queue.aheadValue': '{n}명',
    'queue.eta': '예상 대기 시간',
    'queue.etaSoon': '곧 입장',
    'queue.etaUnknown': '계산 중',
    'queue.progress': '대기 진행률',
    'queue.nextCheck': '{s}초 뒤에 다시 확인합니다.',
    'queue.checking': '확인하는 중…',
    'queue.keepOpen': '이 페이지를 닫거나 떠나면 대기 순서가 사라집니다.',
    'queue.leave': '대기열 나가기',
    'queue.admitted': '차례가 되었습니다! 좌석을 고르세요.',
    'queue.expired': '대기 시간이 만료되었습니다. 다시 줄을 서 주세요.',
    'queue.turnExpired': '예매 시간이 끝났습니다. 다시 줄을 서 주세요.',
    'queue.soldOut': '매진되었습니다. 다시 줄을 서면 대기 명단에 오릅니다.',
    'queue.waitlist': '매진되었습니다. 대기 명단 {n}번째입니다.',
    'queue.waitlistPosition': '대기 명단 순서',
    'queue.waitlistHint': '취소나 환불로 좌석이 돌아오면 대기 명단 순서대로 예매 차례가 옵니다.',
    'queue.leaveWaitlist': '대기 명단에서 나가기',
    'queue.left': '대기열에서 나왔습니다.',
    'queue.done': '이 공연의 예매를 마쳤습니다.',
    'queue.invalid': '대기열 정보가 유효하지 않습니다. 다시 줄을 서 주세요.',
    'queue.joinAgain': '다시 줄 서기',
    'queue.backToConcerts': '공연 목록으로',
    'queue.retrying': '연결이 원활하지 않아 {s}초 뒤에 다시 확인합니다.',
    'queue.prequeue': '사전 대기열에 있습니다: {time}에 이곳의 모든 사람에게 무작위 순서가 정해집니다.',
    'queue.drawIn': '순서 추첨까지',
    'queue.drawing': '순서를 정하는 중…',
    'queue.entryId': '내 참가 ID',
    'queue.entryHint': '참가 ID는 공개해도 안전합니다. 판매가 열리면 공개된 순서에서 이 ID를 찾을 수 있습니다.',
    'queue.proof': '추첨 증명 보기',
    'queue.leavePre': '사전 대기열 나가기',
    'banner.prequeue': '{title} 사전 대기열 · {time} 순서 추첨',

    'proof.title': '순서 추첨 증명',
    'proof.rule': '판매가 열리는 순간, 사전 대기열의 모든 사람은 sha256(시드 ‖ 참가 ID) 값이 작은 순서대로 자리를 받습니다. 시드는 판매 일정을 정할 때 뽑았고, 판매 전에는 그 SHA-256 값(약속값)만 공개했습니다. 그래서 사람들이 줄을 선 뒤에 순서를 고를 수 없습니다.',
    'proof.commitment': '약속값 (시드의 SHA-256)',
    'proof.seed': '시드',
    'proof.seedLater': '판매가 열리는 {time}에 공개됩니다.',
    'proof.entries': '사전 대기열 인원',
    'proof.entriesLater': '판매가 열리면 공개됩니다.',
    'proof.yourEntry': '내 참가 ID',
    'proof.serverRule': '서버가 밝힌 규칙',
    'proof.check': '직접 확인하기',
    'proof.howto': '프로젝트 소스의 tools/verify-shuffle(파이썬 3만 있으면 됩니다)이 공개된 순서를 내려받아 시드와 약속값, 모든 순위를 확인합니다:',
    'proof.json': '증명 원본 (JSON)',
    'banner.waiting': '{title} 대기 중 · {n}번째',
    'banner.active': '{title} 예매 차례입니다.',
    'banner.waitlist': '{title} 매진 · 대기 명단 {n}번째',
    'banner.return': '돌아가기',

    'booking.title': '좌석 선택',
    'booking.turnLeft': '남은 예매 시간',
    'booking.date': '공연 날짜',
    'booking.chooseDate': '날짜를 고르세요',
    'booking.dateOption': '{when} · 잔여 {n}석',
    'booking.opensAt': '{when} 예매 시작',
    'booking.noDates': '남은 좌석이 있는 날짜가 없습니다.',
    'booking.stage': '무대',
    'booking.mapLabel': '좌석 배치도',
    'booking.legend': '범례',
    'booking.tier': '{price}',
    'booking.pickDate': '날짜를 고르면 좌석 배치도가 나타납니다.',
    'booking.hint': '좌석을 눌러 고르세요. 1인 최대 {max}석. 화살표 키로 좌석 사이를 이동할 수 있습니다.',
    'booking.none': '선택한 좌석이 없습니다.',
    'booking.selection': '선택한 좌석: {seats}번 · 합계 {total}',
    'booking.hold': '좌석 선점하기',
    'booking.holding': '선점하는 중…',
    'booking.limit': '1인 최대 {max}석까지 고를 수 있습니다.',
    'booking.asOf': '좌석 현황 {time} 기준 · 자동 새로고침',
    'booking.taken': '{seats}번 좌석을 방금 다른 사람이 가져갔습니다. 다른 좌석을 골라 주세요.',
    'booking.giveUp': '예매 그만두기',
    // The number stands alone so the name contains the visible "7" (WCAG 2.5.3, axe-core).
    'seat.label': '좌석 {n}, {price}, {status}',
    'seat.AVAILABLE': '선택 가능',
    'seat.HELD': '다른 사람이 선점 중',
    'seat.SOLD': '판매 완료',
    'seat.SELECTED': '선택함',
    'legend.AVAILABLE': '선택 가능',
    'legend.HELD': '선점됨',
    'legend.SOLD': '판매됨',
    'legend.SELECTED': '내가 고른 좌석',

    'checkout.title': '결제',
    'checkout.holdLeft': '선점 남은 시간',
    'checkout.concert': '공연',
    'checkout.date': '날짜',
    'checkout.seats': '좌석',
    'checkout.seatsValue': '{seats}번',
    'checkout.amount': '결제 금액',
    'checkout.balance': '지갑 잔액',
    'checkout.short': '{amount} 부족합니다. 지갑을 충전한 뒤 결제하세요.',
    'checkout.enough': '잔액으로 바로 결제할 수 있습니다.',
    'checkout.pay': '{amount} 결제하기',
    'checkout.paying': '결제하는 중…',
    'checkout.retry': '다시 시도',
    'checkout.cancel': '선점 취소',
    'checkout.cancelled': '선점을 취소했습니다. 좌석을 다시 고를 수 있습니다.',
    'checkout.expired': '선점 시간이 끝나 좌석이 풀렸습니다. 결제되지 않았습니다.',
    'checkout.chooseAgain': '좌석 다시 고르기',
    'checkout.holdNote': '선점 시간 안에 결제하지 않으면 좌석이 다른 사람에게 풀립니다.',

    'done.title': '예매 완료',
    'done.text': '예매가 확정되었습니다. 즐거운 공연 되세요!',
    'done.reservation': '예매 번호',
    'done.status': '상태',
    'done.paid': '결제 금액',
    'done.balance': '남은 잔액',
    'done.toWallet': '거래 내역 보기',
    'done.toConcerts': '공연 목록으로',
    'status.CONFIRMED': '확정',
    'status.HELD': '선점 중',
    'status.EXPIRED': '만료',
    'status.CANCELLED': '취소',
    'status.REFUNDED': '환불됨',

    'refund.title': '환불',
    'refund.until': '{when}까지 환불할 수 있습니다.',
    'refund.button': '환불하기',
    'refund.question': '이 예매를 환불할까요?',
    'refund.paid': '결제 금액',
    'refund.fee': '취소 수수료',
    'refund.back': '돌려받을 금액',
    'refund.confirm': '환불 확정',
    'refund.keep': '환불하지 않기',
    'refund.busy': '환불하는 중…',
    'refund.done': '환불했습니다. {refund}을 돌려받았습니다(수수료 {fee}). 잔액 {balance}.',
    'refund.refunded': '{when}에 환불했습니다. {refund}을 돌려받았습니다(수수료 {fee}).',
    'refund.closed': '환불 기한({when})이 지나 더 이상 환불할 수 없습니다.',

    'wallet.title': '지갑',
    'wallet.balance': '잔액',
    'wallet.chargeTitle': '충전',
    'wallet.chargeAmount': '충전 금액 (원)',
    'wallet.chargeHelp': '1원부터 10,000,000원까지',
    'wallet.charge': '충전하기',
    'wallet.charging': '충전하는 중…',
    'wallet.charged': '{amount} 충전했습니다. 잔액 {balance}.',
    'wallet.history': '거래 내역',
    'wallet.empty': '거래 내역이 없습니다.',
    'wallet.more': '더 보기',
    'wallet.col.when': '일시',
    'wallet.col.type': '구분',
    'wallet.col.amount': '금액',
    'wallet.col.balance': '거래 후 잔액',
    'wallet.col.reservation': '예매 번호',
    'wallet.bookings': '내 예매',
    'wallet.noBookings': '이 브라우저에서 한 예매가 없습니다.',
    'tx.CHARGE': '충전',
    'tx.PAYMENT': '결제',
    'tx.REFUND': '환불',

    'error.INVALID_JSON': '요청 형식이 잘못되었습니다.',
    'error.INVALID_ARGUMENT': '입력한 값을 확인해 주세요.',
    'error.INVALID_AMOUNT': '충전 금액은 1원부터 10,000,000원까지입니다.',
    'error.UNAUTHENTICATED': '로그인 정보가 유효하지 않습니다. 다시 가입해 주세요.',
    'error.QUEUE_TOKEN_INVALID': '대기열 정보가 유효하지 않습니다. 다시 줄을 서 주세요.',
    'error.QUEUE_TOKEN_EXPIRED': '예매 차례가 끝났습니다. 다시 줄을 서 주세요.',
    'error.QUEUE_TOKEN_MISMATCH': '다른 공연이나 다른 사용자의 대기열 정보입니다. 다시 줄을 서 주세요.',
    'error.QUEUE_NOT_ADMITTED': '아직 차례가 아닙니다. 대기실에서 기다려 주세요.',
    'error.INSUFFICIENT_BALANCE': '잔액이 부족합니다. 지갑을 충전한 뒤 다시 결제하세요.',
    'error.NOT_FOUND': '찾을 수 없습니다. 목록에서 다시 골라 주세요.',
    'error.METHOD_NOT_ALLOWED': '지원하지 않는 요청입니다.',
    'error.SEAT_UNAVAILABLE': '방금 다른 사람이 가져간 좌석입니다. 다른 좌석을 골라 주세요.',
    'error.HOLD_LIMIT_REACHED': '이 공연에서 1인당 선점할 수 있는 좌석을 모두 선점했습니다.',
    'error.RESERVATION_NOT_HELD': '이 예약은 더 이상 선점 상태가 아니어서 결제하거나 취소할 수 없습니다.',
    'error.IDEMPOTENCY_IN_PROGRESS': '같은 요청을 처리하는 중입니다. 잠시 후 다시 시도하세요.',
    'error.IDEMPOTENCY_KEY_REUSED': '요청이 이전 요청과 겹칩니다. 다시 시도해 주세요.',
    'error.HOLD_EXPIRED': '선점 시간이 지나 좌석이 풀렸습니다. 결제되지 않았습니다.',
    'error.REFUND_NOT_ALLOWED': '이 예매는 환불할 수 없습니다.',
    'error.QUEUE_NOT_OPEN': '아직 대기열이 열리지 않았습니다. 열리는 시각에 다시 시도해 주세요.',
    'error.SALE_NOT_OPEN': '이 날짜는 아직 예매가 열리지 않았습니다.',
    'error.PAYLOAD_TOO_LARGE': '요청이 너무 큽니다.',
    'error.UNSUPPORTED_MEDIA_TYPE': '요청 형식이 잘못되었습니다.',
    'error.DATABASE_UNAVAILABLE': '서비스가 잠시 바쁩니다. 잠시 후 다시 시도해 주세요.',
    'error.INTERNAL': '서버에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요.',
    'error.NETWORK': '서버에 연결할 수 없습니다. 연결을 확인하고 다시 시도해 주세요.',
    'error.UNKNOWN': '알 수 없는 오류가 발생했습니다. ({code})',
  },

  en: {
    'app.title': 'Concert tickets',
    'app.skip': 'Skip to content',
    'app.loading': 'Loading…',
    'nav.label': 'Main menu',
    'nav.concerts': 'Concerts',
    'nav.wallet': 'Wallet',
    'lang.label': 'Language',
    'user.signedInAs': 'Signed in as {name}',
    'user.signOut': 'Sign out',
    'user.signedOut': 'Signed out. The key was removed from this browser.',

    'signup.title': 'Get started',
    'signup.intro': 'Enter a name to start booking. Your key is kept in this browser only and removed when you sign out.',
    'signup.name': 'Name',
    'signup.nameHelp': '1 to 64 characters',
    'signup.submit': 'Sign up and start',
    'signup.busy': 'Signing up…',
    'signup.nameRequired': 'Please enter a name.',

    'concerts.title': 'Concerts',
    'concerts.intro': 'Join a queue; people are let in turn by turn to choose their seats.',
    'concerts.empty': 'No concert is on sale right now.',
    'concerts.venue': 'Venue',
    'concerts.waiting': '{n} waiting',
    'concerts.active': '{n} of {max} booking now',
    'concerts.rules': 'Seats held {min} min · up to {n} per person',
    'concerts.join': 'Join the queue',
    'concerts.joinLabel': 'Join the queue for {title}',
    'concerts.resume': 'Back to the queue',
    'concerts.refresh': 'Refresh',
    'concerts.updated': 'As of {time}',
    'concerts.state.UPCOMING': 'Upcoming',
    'concerts.state.PRE_QUEUE': 'Pre-queue open',
    'concerts.state.ON_SALE': 'On sale',
    'concerts.state.SOLD_OUT': 'Sold out',
    'concerts.changed': '{title}: {state}',
    'concerts.preQueueIn': 'Pre-queue opens in {in}',
    'concerts.drawIn': 'Places drawn in {in}',
    'concerts.drawing': 'Drawing places…',
    'concerts.saleAt': 'Sale opens {when}',
    'concerts.joinPre': 'Join the pre-queue',
    'concerts.joinPreLabel': 'Join the pre-queue for {title}',
    'concerts.proof': 'How places are drawn',
    'concerts.proofLabel': 'How places are drawn for {title}',

    'queue.title': 'Waiting room',
    'queue.joining': 'Joining the queue…',
    'queue.position': 'Your position',
    'queue.positionValue': 'No. {n}',
    'queue.ahead': 'People ahead',
    'queue.aheadValue': '{n}',
    'queue.eta': 'Estimated wait',
    'queue.etaSoon': 'Any moment now',
    'queue.etaUnknown': 'Estimating',
    'queue.progress': 'Progress in the queue',
    'queue.nextCheck': 'Checking again in {s} s.',
    'queue.checking': 'Checking…',
    'queue.keepOpen': 'Closing or leaving this page gives up your place.',
    'queue.leave': 'Leave the queue',
    'queue.admitted': "It's your turn! Choose your seats.",
    'queue.expired': 'Your place in the queue has expired. Please join again.',
    'queue.turnExpired': 'Your booking turn has ended. Please join the queue again.',
    'queue.soldOut': 'Sold out. Join again to be put on the waiting list.',
    'queue.waitlist': 'Sold out. You are number {n} on the waiting list.',
    'queue.waitlistPosition': 'Place on the waiting list',
    'queue.waitlistHint': 'When a seat comes back (a cancellation or a refund), the waiting list gets turns in order.',
    'queue.leaveWaitlist': 'Leave the waiting list',
    'queue.left': 'You left the queue.',
    'queue.done': 'You have finished booking this concert.',
    'queue.invalid': 'Your queue pass is not valid. Please join again.',
    'queue.joinAgain': 'Join again',
    'queue.backToConcerts': 'Back to concerts',
    'queue.retrying': 'Connection trouble; checking again in {s} s.',
    'queue.prequeue': 'You are in the pre-queue: at {time} everyone here gets a random place.',
    'queue.drawIn': 'Places drawn in',
    'queue.drawing': 'Drawing places…',
    'queue.entryId': 'Your entry ID',
    'queue.entryHint': 'Your entry ID is safe to share; once the sale opens you can find it in the published order.',
    'queue.proof': 'Check the draw',
    'queue.leavePre': 'Leave the pre-queue',
    'banner.prequeue': '{title} pre-queue · places drawn at {time}',

    'proof.title': 'How places are drawn',
    'proof.rule': 'When the sale opens, everyone in the pre-queue gets a place in ascending order of sha256(seed ‖ entry ID). The seed was drawn when the sale was scheduled, and only its SHA-256 (the commitment) was published before the opening, so the order could not be chosen after people joined.',
    'proof.commitment': 'Commitment (SHA-256 of the seed)',
    'proof.seed': 'Seed',
    'proof.seedLater': 'Published when the sale opens at {time}.',
    'proof.entries': 'People in the pre-queue',
    'proof.entriesLater': 'Published when the sale opens.',
    'proof.yourEntry': 'Your entry ID',
    'proof.serverRule': "The server's statement of the rule",
    'proof.check': 'Check it yourself',
    'proof.howto': "tools/verify-shuffle in the project's source (it needs only Python 3) downloads the published order and checks the seed against the commitment and every rank:",
    'proof.json': 'The proof as JSON',
    'banner.waiting': 'In the queue for {title} · position {n}',
    'banner.active': 'Your turn for {title}.',
    'banner.waitlist': '{title} is sold out · number {n} on the waiting list',
    'banner.return': 'Return',

    'booking.title': 'Choose seats',
    'booking.turnLeft': 'Time left in your turn',
    'booking.date': 'Date',
    'booking.chooseDate': 'Choose a date',
    'booking.dateOption': '{when} · {n} seats left',
    'booking.opensAt': 'booking opens {when}',
    'booking.noDates': 'No date has seats left.',
    'booking.stage': 'Stage',
    'booking.mapLabel': 'Seat map',
    'booking.legend': 'Legend',
    'booking.tier': '{price}',
    'booking.pickDate': 'Choose a date to see the seat map.',
    'booking.hint': 'Press a seat to choose it; up to {max} per person. Arrow keys move between seats.',
    'booking.none': 'No seat chosen.',
    'booking.selection': 'Chosen: seat {seats} · total {total}',
    'booking.hold': 'Hold seats',
    'booking.holding': 'Holding…',
    'booking.limit': 'You can choose up to {max} seats.',
    'booking.asOf': 'Seat map as of {time} · refreshes by itself',
    'booking.taken': 'Seat {seats} was just taken by someone else. Please choose another seat.',
    'booking.giveUp': 'Give up my turn',
    'seat.label': 'Seat {n}, {price}, {status}',
    'seat.AVAILABLE': 'available',
    'seat.HELD': 'held by someone else',
    'seat.SOLD': 'sold',
    'seat.SELECTED': 'chosen',
    'legend.AVAILABLE': 'Available',
    'legend.HELD': 'Held',
    'legend.SOLD': 'Sold',
    'legend.SELECTED': 'Your choice',

    'checkout.title': 'Payment',
    'checkout.holdLeft': 'Hold time left',
    'checkout.concert': 'Concert',
    'checkout.date': 'Date',
    'checkout.seats': 'Seats',
    'checkout.seatsValue': '{seats}',
    'checkout.amount': 'Amount',
    'checkout.balance': 'Wallet balance',
    'checkout.short': 'You are {amount} short. Charge your wallet, then pay.',
    'checkout.enough': 'Your balance covers it.',
    'checkout.pay': 'Pay {amount}',
    'checkout.paying': 'Paying…',
    'checkout.retry': 'Try again',
    'checkout.cancel': 'Cancel the hold',
    'checkout.cancelled': 'Hold cancelled. You can choose seats again.',
    'checkout.expired': 'The hold ran out and the seats were released. You were not charged.',
    'checkout.chooseAgain': 'Choose seats again',
    'checkout.holdNote': 'If you do not pay before the hold runs out, the seats go back on sale.',

    'done.title': 'Booking confirmed',
    'done.text': 'Your booking is confirmed. Enjoy the show!',
    'done.reservation': 'Booking number',
    'done.status': 'Status',
    'done.paid': 'Paid',
    'done.balance': 'Balance left',
    'done.toWallet': 'See wallet history',
    'done.toConcerts': 'Back to concerts',
    'status.CONFIRMED': 'Confirmed',
    'status.HELD': 'Held',
    'status.EXPIRED': 'Expired',
    'status.CANCELLED': 'Cancelled',
    'status.REFUNDED': 'Refunded',

    'refund.title': 'Refund',
    'refund.until': 'Refundable until {when}.',
    'refund.button': 'Refund',
    'refund.question': 'Refund this booking?',
    'refund.paid': 'Paid',
    'refund.fee': 'Cancellation fee',
    'refund.back': 'You get back',
    'refund.confirm': 'Yes, refund',
    'refund.keep': 'Keep the booking',
    'refund.busy': 'Refunding…',
    'refund.done': 'Refunded: {refund} back (fee {fee}). Balance {balance}.',
    'refund.refunded': 'Refunded on {when}: {refund} back (fee {fee}).',
    'refund.closed': 'The refund deadline ({when}) has passed; this booking can no longer be refunded.',

    'wallet.title': 'Wallet',
    'wallet.balance': 'Balance',
    'wallet.chargeTitle': 'Charge',
    'wallet.chargeAmount': 'Amount to charge (won)',
    'wallet.chargeHelp': 'From 1 to 10,000,000 won',
    'wallet.charge': 'Charge',
    'wallet.charging': 'Charging…',
    'wallet.charged': 'Charged {amount}. Balance {balance}.',
    'wallet.history': 'Transaction history',
    'wallet.empty': 'No transactions yet.',
    'wallet.more': 'Show more',
    'wallet.col.when': 'When',
    'wallet.col.type': 'Type',
    'wallet.col.amount': 'Amount',
    'wallet.col.balance': 'Balance after',
    'wallet.col.reservation': 'Booking no.',
    'wallet.bookings': 'My bookings',
    'wallet.noBookings': 'No bookings made in this browser.',
    'tx.CHARGE': 'Charge',
    'tx.PAYMENT': 'Payment',
    'tx.REFUND': 'Refund',

    'error.INVALID_JSON': 'The request was malformed.',
    'error.INVALID_ARGUMENT': 'Please check what you entered.',
    'error.INVALID_AMOUNT': 'You can charge from 1 to 10,000,000 won.',
    'error.UNAUTHENTICATED': 'Your sign-in is no longer valid. Please sign up again.',
    'error.QUEUE_TOKEN_INVALID': 'Your queue pass is not valid. Please join the queue again.',
    'error.QUEUE_TOKEN_EXPIRED': 'Your booking turn has ended. Please join the queue again.',
    'error.QUEUE_TOKEN_MISMATCH': 'This queue pass belongs to another concert or user. Please join again.',
    'error.QUEUE_NOT_ADMITTED': 'It is not your turn yet. Please wait in the waiting room.',
    'error.INSUFFICIENT_BALANCE': 'Not enough balance. Charge your wallet, then pay again.',
    'error.NOT_FOUND': 'Not found. Please choose again from the list.',
    'error.METHOD_NOT_ALLOWED': 'That request is not supported.',
    'error.SEAT_UNAVAILABLE': 'That seat was just taken by someone else. Please choose another seat.',
    'error.HOLD_LIMIT_REACHED': 'You already hold the most seats allowed per person for this concert.',
    'error.RESERVATION_NOT_HELD': 'This reservation is no longer held, so it cannot be paid or cancelled.',
    'error.IDEMPOTENCY_IN_PROGRESS': 'The same request is still being processed. Please try again shortly.',
    'error.IDEMPOTENCY_KEY_REUSED': 'This request clashed with an earlier one. Please try again.',
    'error.HOLD_EXPIRED': 'The hold ran out and the seats were released. You were not charged.',
    'error.REFUND_NOT_ALLOWED': 'This booking cannot be refunded.',
    'error.QUEUE_NOT_OPEN': 'The queue is not open yet. Please try again when it opens.',
    'error.SALE_NOT_OPEN': 'Booking for this date has not opened yet.',
    'error.PAYLOAD_TOO_LARGE': 'The request was too large.',
    'error.UNSUPPORTED_MEDIA_TYPE': 'The request was malformed.',
    'error.DATABASE_UNAVAILABLE': 'The service is busy. Please try again shortly.',
    'error.INTERNAL': 'Something went wrong on the server. Please try again shortly.',
    'error.NETWORK': 'Cannot reach the server. Check your connection and try again.',
    'error.UNKNOWN': 'Something unexpected happened ({code}).',
  },
};

export const LANGS = ['ko', 'en'];
const STORE_KEY = 'ticket.lang';
const listeners = new Set();

function initialLang() {
  try {
    const saved = localStorage.getItem(STORE_KEY);
    if (LANGS.includes(saved)) return saved;
  } catch { /* storage may be blocked */ }
  return 'ko';
}

let lang = initialLang();

export function getLang() {
  return lang;
}

/** Switch the language, update <html lang> and every [data-i18n] element, tell listeners. */
export function setLang(next) {
  if (!LANGS.includes(next)) return;
  lang = next;
  try { localStorage.setItem(STORE_KEY, next); } catch { /* ignore */ }
  document.documentElement.lang = next;
  applyStatic(document);
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

/** The text for a key, with {name} placeholders filled from params. */
export function t(key, params = {}) {
  const s = STRINGS[lang][key] ?? STRINGS.ko[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Fill elements marked data-i18n (text) and data-i18n-aria-label (aria-label). */
export function applyStatic(root) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  }
  document.title = t('app.title');
}

const grouping = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 150,000원 in Korean, ₩150,000 in English. */
export function money(won) {
  const s = grouping.format(won);
  return lang === 'ko' ? `${s}원` : `₩${s}`;
}

/** Money as a screen reader should say it: 150,000원 / 150,000 won. */
export function moneySpoken(won) {
  const s = grouping.format(won);
  return lang === 'ko' ? `${s}원` : `${s} won`;
}

/** A countdown: m:ss, or h:mm:ss past an hour; whole seconds left, rounded down, never negative. */
export function clock(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** A rough wait: "약 2분 10초" / "about 2 min 10 s". */
export function duration(seconds) {
  const sec = Math.max(0, Math.round(seconds));
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  const parts = [];
  if (lang === 'ko') {
    if (h) parts.push(`${h}시간`);
    if (m) parts.push(`${m}분`);
    if (s && !h) parts.push(`${s}초`);
    return `약 ${parts.join(' ') || '0초'}`;
  }
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (s && !h) parts.push(`${s} s`);
  return `about ${parts.join(' ') || '0 s'}`;
}

const locale = () => (lang === 'ko' ? 'ko-KR' : 'en-US');

/** A moment as HH:MM in Seoul time, like the performances (when the pre-queue's places are drawn). */
export function timeOfDay(iso) {
  return new Intl.DateTimeFormat(locale(), { timeZone: 'Asia/Seoul', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date(iso));
}

const yearIn = (date, timeZone) => new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric' }).format(date);

/** A performance time, shown in Seoul time (where the concerts are); the year only when not this one. */
export function dateTime(iso) {
  const when = new Date(iso);
  const timeZone = 'Asia/Seoul';
  return new Intl.DateTimeFormat(locale(), {
    timeZone, month: 'short', day: 'numeric', weekday: 'short', hour: 'numeric', minute: '2-digit',
    year: yearIn(when, timeZone) === yearIn(new Date(), timeZone) ? undefined : 'numeric',
  }).format(when);
}

/** A date as the API gives it (YYYY-MM-DD, a Seoul date), with its weekday. */
export function day(isoDate) {
  const [y, m, d] = isoDate.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), {
    timeZone: 'UTC', year: 'numeric', month: 'short', day: 'numeric', weekday: 'short',
  }).format(new Date(Date.UTC(y, m - 1, d)));
}

/** A moment in the visitor's own time zone (ledger rows, "as of" stamps). */
export function stamp(iso, withDate = true) {
  const opts = withDate
    ? { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }
    : { hour: '2-digit', minute: '2-digit', second: '2-digit' };
  return new Intl.DateTimeFormat(locale(), opts).format(iso instanceof Date ? iso : new Date(iso));
}

/** Friendly text for an error thrown by api.js (falls back on the HTTP status class). */
export function errorText(err) {
  const code = err && err.code ? err.code : 'UNKNOWN';
  const key = `error.${code}`;
  if (STRINGS.ko[key]) return t(key);
  if (err && err.status >= 500) return t('error.INTERNAL');
  return t('error.UNKNOWN', { code });
}
