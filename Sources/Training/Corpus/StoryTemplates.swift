// The story sentences, grouped into beats. A plot (StoryWriter.swift) is a sequence of beats; each
// beat picks one of its templates. CorpusGrammar accepts the sentences of every template of every
// beat (StoryBeat.allCases), so adding a beat here adds it to both.
//
// Conventions the sentence splitter relies on: a sentence ends with . ! or ? (inside quotes, with
// the closing quote); a closing quote in the middle of a sentence is followed by a lowercase word.

enum StoryBeat: Int, CaseIterable {
    // Beginnings.
    case intro, toy, outing, play
    // Lost and found.
    case lose, lostFeeling, ask, comfort, search, foundByFriend, foundByHero, shoutFriend, shoutHero, giveBack, endFeeling, lostEnd
    // Broken toy.
    case ohNo, breaks, brokenFeeling, brokenTalk, fix, fixed, brokenEnd
    // Sharing.
    case want, refuse, regret, share, together, sharingEnd
    // A hungry animal.
    case meet, petState, petTalk, fetchFood, feed, friendComes, petEnd
    // A present.
    case birthday, plan, shop, wrap, give, open, thanks, giftEnd
    // Rain.
    case rainStarts, rainTalk, runHome, atHome, rainbow, rainEnd

    var templates: [String] {
        switch self {
        case .intro:
            return [
                "Once upon a time, there was a {size} {a.kid} named {A}.",
                "Once upon a time, there was a {a.kid} named {A}.",
                "There was once a {a.kid} called {A}.",
                "{A} was a {size} {a.kid} who liked to {play}.",
                "Once there was a {a.kid} named {A} who loved to {play}.",
                "{A} was a {size} {a.kid}.",
                "Long ago, a {a.kid} named {A} lived in a {size} house."
            ]
        case .toy:
            return [
                "{A} had a {col} {obj}.",
                "{a.He} had a {size} {col} {obj}.",
                "{A} loved {a.his} {col} {obj} very much.",
                "{a.His} favourite toy was a {col} {obj}.",
                "Every day, {A} played with {a.his} {col} {obj}.",
                "{A} got a {col} {obj} from {a.his} {parent}.",
                "{A} had a {col} {obj} that {a.he} took everywhere."
            ]
        case .outing:
            return [
                "[One day|One morning|One afternoon|One sunny day], {A} went to the {place} with {a.his} friend {B}.",
                "[One day|One morning], {A} and {a.his} friend {B} went to the {place} to {play}.",
                "It was a {weather} day, and {A} and {B} were playing in the {place}.",
                "[One day|One morning], {A} took the {col} {obj} to the {place} to play with {B}."
            ]
        case .play:
            return [
                "They {played} in the {place} all morning.",
                "{A} and {B} {played} and {played}.",
                "They had a {good} time in the {place}.",
                "The day was {weather}, and the children were {happy}."
            ]

        case .lose:
            return [
                "[Then|Suddenly|After a while], {A} could not find {a.his} {obj}.",
                "{A} looked around, but the {col} {obj} was gone.",
                "When it was time to go home, {A} saw that {a.his} {obj} was gone.",
                "[Then|Suddenly], {A} lost {a.his} {col} {obj}."
            ]
        case .lostFeeling:
            return [
                "{A} felt {sad}.",
                "{a.He} was very {sad}.",
                "{A} was {sad} and began to cry.",
                "Poor {A} felt so {sad}."
            ]
        case .ask:
            return [
                "\"Where is my {obj}?\" asked {A}.",
                "\"Can you help me find my {obj}?\" asked {A}.",
                "\"I lost my {col} {obj},\" said {A}.",
                "{A} said, \"My {obj} is gone!\"",
                "\"Has anyone seen my {col} {obj}?\" asked {A}.",
                "\"Oh no, where did my {obj} go?\" cried {A}."
            ]
        case .comfort:
            return [
                "\"Do not be {sad}, {A},\" said {B}.",
                "\"I will help you look,\" said {B}.",
                "{B} said, \"Let us look for it together.\"",
                "\"We will find it,\" {b.he} said.",
                "{B} put {b.his} arm around {A}.",
                "\"Do not worry, {A}. I will help you,\" said {B}."
            ]
        case .search:
            return [
                "They looked [everywhere|all around|in every corner].",
                "{A} and {B} looked [everywhere|all around the {place}].",
                "They searched the {place} for a long time."
            ]
        case .foundByFriend:
            return [
                "At last, {B} found the {col} {obj} {prep} the {thing}.",
                "Then {B} found the {obj} {prep} the {thing}!",
                "{B} looked {prep} the {thing}, and {b.he} found the {obj}!"
            ]
        case .foundByHero:
            return [
                "At last, {A} found {a.his} {obj} {prep} the {thing}.",
                "Then {A} looked {prep} the {thing} and found {a.his} {col} {obj}!",
                "{A} found the {col} {obj} {prep} the {thing}."
            ]
        case .shoutFriend:
            return [
                "\"Here it is!\" said {B}.",
                "\"I see it!\" shouted {B}."
            ]
        case .shoutHero:
            return [
                "\"Here it is!\" said {A}.",
                "\"There it is!\" shouted {A}."
            ]
        case .giveBack:
            return [
                "{B} gave the {obj} back to {A}.",
                "{B} gave the {col} {obj} back to {b.his} friend."
            ]
        case .endFeeling:
            return [
                "{A} was {happy} again.",
                "{A} felt {happy}.",
                "Now {A} was so {happy}.",
                "{a.He} smiled and felt {happy}.",
                "{A} jumped up and down and felt very {happy}."
            ]
        case .lostEnd:
            return [
                "\"Thank you, {B}!\" said {A}.",
                "{A} hugged {B}.",
                "From that day on, {A} never lost {a.his} {col} {obj} again.",
                "{A} and {B} played with the {col} {obj} until the sun went down.",
                "After that, {A} always kept {a.his} {obj} in a safe place."
            ]

        case .ohNo:
            return [
                "Oh no!"
            ]
        case .breaks:
            return [
                "[Then|Suddenly], the {obj} fell and broke.",
                "[Then|Suddenly], {B} dropped the {col} {obj}, and it broke.",
                "The {col} {obj} hit a {thing} and broke."
            ]
        case .brokenFeeling:
            return [
                "{A} felt {sad}.",
                "{A} was {sad} and began to cry.",
                "Poor {A} felt so {sad}.",
                "{A} looked at the broken {obj} and felt {sad}."
            ]
        case .brokenTalk:
            return [
                "\"My {obj} is broken!\" cried {A}.",
                "\"I am sorry, {A},\" said {B}.",
                "{A} said, \"What can we do?\""
            ]
        case .fix:
            return [
                "\"Let me help you,\" said {B}.",
                "{B} said, \"We can fix it together.\"",
                "{B} got some tape, and they fixed the {obj}.",
                "Together they fixed the {col} {obj}.",
                "{a.His} {parent} helped them fix the {obj}."
            ]
        case .fixed:
            return [
                "Soon the {col} {obj} was as good as new.",
                "The {obj} worked again!"
            ]
        case .brokenEnd:
            return [
                "{A} smiled at {B}.",
                "{a.He} said, \"You are a good friend, {B}.\"",
                "They played with the {obj} all day.",
                "From then on, {A} was very careful with {a.his} {obj}."
            ]

        case .want:
            return [
                "{B} saw the {col} {obj} and wanted to play with it.",
                "\"Can I play with your {obj}?\" asked {B}."
            ]
        case .refuse:
            return [
                "\"No, it is mine!\" said {A}.",
                "{A} held the {obj} and said, \"No!\""
            ]
        case .regret:
            return [
                "{B} felt {sad} and walked away.",
                "{A} saw that {B} was {sad}.",
                "{A} felt bad.",
                "{a.He} did not like to see {a.his} friend so {sad}."
            ]
        case .share:
            return [
                "{A} ran to {B} and said, \"I am sorry. We can share.\"",
                "\"You can play with my {obj} too,\" said {A}.",
                "{A} gave the {obj} to {B}."
            ]
        case .together:
            return [
                "They took turns with the {col} {obj}.",
                "Sharing made them both {happy}.",
                "{A} and {B} {played} together all day."
            ]
        case .sharingEnd:
            return [
                "{A} learned that sharing is fun.",
                "From that day on, they always shared their toys."
            ]

        case .meet:
            return [
                "In the {place}, {A} saw a little {pet}.",
                "{A} was in the {place} when {a.he} saw a {pet}.",
                "{A} saw a {size} {pet} in the {place}."
            ]
        case .petState:
            return [
                "The {pet} looked [hungry and cold|hungry and tired|very hungry].",
                "The little {pet} was hungry."
            ]
        case .petTalk:
            return [
                "\"Are you hungry, little {pet}?\" asked {A}.",
                "\"Poor little {pet},\" said {A}."
            ]
        case .fetchFood:
            return [
                "{A} ran home and got some {food}.",
                "{a.He} asked {a.his} {parent} for some {food}."
            ]
        case .feed:
            return [
                "{A} gave the {food} to the {pet}.",
                "The {pet} ate all the {food}."
            ]
        case .friendComes:
            return [
                "Then {B} came to see the {pet}.",
                "\"What a nice {pet}!\" said {B}."
            ]
        case .petEnd:
            return [
                "The {pet} was {happy} and followed {A} home.",
                "Now {A} and the {pet} are best friends.",
                "The {pet} liked to play with the {col} {obj}.",
                "Every day, {A} and {B} played with the {pet}."
            ]

        case .birthday:
            return [
                "[Soon it was|The next day was] the birthday of {B}.",
                "{B} was going to have a birthday party."
            ]
        case .plan:
            return [
                "{A} wanted to give {b.him} a present.",
                "{A} wanted to find a {good} present for {B}."
            ]
        case .shop:
            return [
                "{A} went to the shop with {a.his} {parent} and found a {col} {obj}.",
                "At the shop, {A} saw a {size} {col} {obj}."
            ]
        case .wrap:
            return [
                "{a.He} wrapped the {obj} in pretty paper.",
                "{A} put the {obj} in a box."
            ]
        case .give:
            return [
                "At the party, {A} gave the present to {B}.",
                "{A} gave the present to {B}.",
                "The next day, {A} gave {b.him} the present."
            ]
        case .open:
            return [
                "{B} opened it and saw the {col} {obj}.",
                "{b.He} opened the present and found a {col} {obj} inside."
            ]
        case .thanks:
            return [
                "\"Thank you, {A}! I love it!\" said {B}.",
                "{B} hugged {A}."
            ]
        case .giftEnd:
            return [
                "{B} played with the {col} {obj} all day.",
                "{A} was {happy} to see {a.his} friend so {happy}."
            ]

        case .rainStarts:
            return [
                "Then dark clouds came, and it began to rain.",
                "Suddenly, it started to rain.",
                "Big drops of rain began to fall."
            ]
        case .rainTalk:
            return [
                "\"Let us go home!\" said {A}.",
                "{B} said, \"Run, {A}!\"",
                "\"Oh no, it is raining!\" cried {B}."
            ]
        case .runHome:
            return [
                "They ran home as fast as they could.",
                "{A} and {B} ran home in the rain."
            ]
        case .atHome:
            return [
                "At home, {a.his} {parent} gave them warm milk.",
                "They played with the {col} {obj} inside.",
                "They sat by the window and watched the rain."
            ]
        case .rainbow:
            return [
                "When the rain stopped, they saw a big rainbow in the sky.",
                "Soon the sun came out again."
            ]
        case .rainEnd:
            return [
                "It was a {good} day after all.",
                "{A} and {B} were {happy}."
            ]
        }
    }

    /// The parsed templates of every beat, indexed by `rawValue`.
    static let compiled: [[SentenceTemplate]] = allCases.map { $0.templates.map(SentenceTemplate.init) }

    var compiledTemplates: [SentenceTemplate] { StoryBeat.compiled[rawValue] }
}
